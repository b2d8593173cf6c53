/**
 * Random identifiers and one-time codes from the platform CSPRNG.
 */
import { base32 } from 'multiformats/bases/base32'
import { randomBytes } from '../crypto/random.ts'
import { base64UrlEncode } from '../data/base64.ts'

export type TokenEncoding = 'base64url' | 'base32'

/** Letters and digits a person reads back without confusion: no 0/O, 1/I/L. */
export const UNAMBIGUOUS_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'

const BASE32_LOWER = 'abcdefghijklmnopqrstuvwxyz234567'

/** `bytes` random bytes as unpadded base64url (default) or lowercase RFC 4648 base32. */
export function randomToken(bytes = 32, encoding: TokenEncoding = 'base64url'): string {
  const random = randomBytes(bytes)
  return encoding === 'base32' ? base32.baseEncode(random) : base64UrlEncode(random)
}

/** `length` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias). */
export function randomString(length: number, alphabet: string): string {
  if (alphabet.length < 2 || alphabet.length > 256) {
    throw new RangeError('alphabet must have 2 to 256 characters')
  }
  // Bytes at or above the largest multiple of the alphabet size are redrawn.
  const limit = 256 - (256 % alphabet.length)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte < limit) out += alphabet[byte % alphabet.length]
      if (out.length === length) break
    }
  }
  return out
}

/**
 * An invite code in the reference's shape, `<hostname with dashes>-xxxxx-xxxxx`, e.g.
 * `pds-example-com-ab2cd-ef3gh` (50 random bits, lowercase base32).
 */
export function generateInviteCode(hostname: string): string {
  const prefix = hostname.toLowerCase().replaceAll('.', '-')
  return `${prefix}-${randomString(5, BASE32_LOWER)}-${randomString(5, BASE32_LOWER)}`
}

/** A code mailed to the user and typed back, like `ABCDE-FGHJK` (about 49 random bits). */
export function generateEmailToken(): string {
  return `${randomString(5, UNAMBIGUOUS_ALPHABET)}-${randomString(5, UNAMBIGUOUS_ALPHABET)}`
}

/** The form to compare a typed-back email token in: trimmed and upper case. */
export function normalizeEmailToken(input: string): string {
  return input.trim().toUpperCase()
}
