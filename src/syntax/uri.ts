/**
 * Lexicon `uri`: a URI with a scheme (RFC 3986 §3.1), at most 8 KiB of UTF-8.
 * https://atproto.com/specs/lexicon
 *
 * @NOTE Beyond the scheme, only whitespace and control characters are refused, so IRIs and
 * sloppy-but-common URLs (`{`, `|`, raw non-ASCII) that other implementations accept in
 * records are not rejected here.
 */
import { syntaxError } from './errors.ts'

export const MAX_URI_BYTES = 8192

const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\p{Cc}]+$/u

export function isValidUri(value: string): boolean {
  return !isTooLong(value) && URI_RE.test(value)
}

export function ensureValidUri(value: string): void {
  if (isValidUri(value)) return
  const reason = isTooLong(value)
    ? `longer than ${MAX_URI_BYTES} bytes`
    : 'expected a scheme, ":", and a non-empty remainder without whitespace'
  throw syntaxError('URI', value, reason)
}

function isTooLong(value: string): boolean {
  // A UTF-16 code unit takes 1-3 UTF-8 bytes (a surrogate pair takes 4), so most strings
  // are decided by their length alone.
  if (value.length > MAX_URI_BYTES) return true
  if (value.length * 3 <= MAX_URI_BYTES) return false
  let bytes = 0
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdfff ? 2 : 3
  }
  return bytes > MAX_URI_BYTES
}
