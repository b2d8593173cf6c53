/**
 * Caps on the strings of a JSON input, checked by the dispatcher after the Lexicon (which
 * leaves several unbounded: a login identifier, passwords, emails). Every one of them may
 * become a lookup key, a rate-limit key or a row, and a password is hashed with scrypt, so
 * each is bounded before the handler runs: a 2 MB identifier is refused, not stored.
 *
 * Top-level strings (and strings in top-level arrays) are checked; nested values are records
 * or structures the Lexicons bound themselves.
 */
import { InvalidRequestError } from './errors.ts'

/** The longest a DID may be (the DID spec for atproto); any other string falls under it. */
export const DEFAULT_INPUT_STRING_MAX = 2048

/** Tighter caps by field name, in characters. */
export const INPUT_STRING_MAX: Readonly<Record<string, number>> = {
  // The reference PDS's cap on new passwords; also bounds the work of one scrypt hash.
  password: 256,
  // A handle (253), an email (254) or the DID of an account here (did:plc, did:web host).
  identifier: 512,
  email: 254,
  handle: 253,
  name: 256,
  inviteCode: 256,
  token: 256,
}

/** Throws InvalidRequest naming the first string of `input` over its cap. */
export function checkInputStrings(input: unknown): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return
  for (const [field, value] of Object.entries(input)) {
    const max = INPUT_STRING_MAX[field] ?? DEFAULT_INPUT_STRING_MAX
    const strings = Array.isArray(value) ? value : [value]
    for (const item of strings) {
      if (typeof item === 'string' && item.length > max) {
        throw new InvalidRequestError(`Input/${field} must not be longer than ${max} characters`)
      }
    }
  }
}
