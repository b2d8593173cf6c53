/**
 * App passwords: generated `xxxx-xxxx-xxxx-xxxx` secrets (lowercase base32, 80 random bits),
 * stored as `sha256$$<salt>$<hash>` in the same self-describing shape as account passwords.
 *
 * @NOTE They get a fast salted SHA-256 rather than the slow scrypt of `password.ts` on
 * purpose: a slow hash protects guessable secrets, and 80 random bits are not guessable. Speed
 * matters because a login names no app password, so the handler checks the candidate against
 * each of the account's app passwords; at ~270 ms per scrypt that would be seconds of CPU.
 */
import { sha256 } from '../crypto/hash.ts'
import { randomBytes } from '../crypto/random.ts'
import { base64Decode, base64Encode } from '../data/base64.ts'
import { timingSafeEqual } from './constant-time.ts'
import { PasswordHashError } from './errors.ts'
import { randomString } from './random-token.ts'

export const APP_PASSWORD_SCHEME = 'sha256'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const FORMAT = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/
const SALT_BYTES = 16

const encoder = new TextEncoder()

export function generateAppPassword(): string {
  const groups = [0, 1, 2, 3].map(() => randomString(4, ALPHABET))
  return groups.join('-')
}

/** Whether a login password has the shape of an app password (and so is worth checking as one). */
export function isAppPasswordFormat(password: string): boolean {
  return FORMAT.test(password)
}

export function hashAppPassword(appPassword: string): string {
  const salt = randomBytes(SALT_BYTES)
  return `${APP_PASSWORD_SCHEME}$$${base64Encode(salt)}$${base64Encode(digest(salt, appPassword))}`
}

/** True when `appPassword` matches `stored`; throws PasswordHashError if `stored` is unreadable. */
export function verifyAppPassword(appPassword: string, stored: string): boolean {
  const parts = stored.split('$')
  if (parts.length !== 4 || parts[0] !== APP_PASSWORD_SCHEME || parts[1] !== '') {
    throw new PasswordHashError('app password hash is not in a known format')
  }
  let salt: Uint8Array
  let expected: Uint8Array
  try {
    salt = base64Decode(parts[2]!)
    expected = base64Decode(parts[3]!)
  } catch {
    throw new PasswordHashError('app password hash is not base64')
  }
  if (salt.length < 8 || expected.length !== 32) {
    throw new PasswordHashError('app password hash has the wrong length')
  }
  return timingSafeEqual(digest(salt, appPassword), expected)
}

function digest(salt: Uint8Array, appPassword: string): Uint8Array {
  const secret = encoder.encode(appPassword)
  const input = new Uint8Array(salt.length + secret.length)
  input.set(salt)
  input.set(secret, salt.length)
  return sha256(input)
}
