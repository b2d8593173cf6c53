/**
 * Base64 (RFC 4648) on Uint8Array, without Buffer so it runs in workerd.
 *
 * @NOTE Decoding is lenient about padding and non-zero trailing bits: atproto `$bytes`
 * values are "padding optional", and the interop valid record uses `"123"`, which strict
 * decoders (multiformats) reject. Characters outside the alphabet are still errors.
 */

const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export class Base64Error extends Error {
  override name = 'Base64Error'
}

function decodeTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  return table
}

const STANDARD_TABLE = decodeTable(STANDARD_ALPHABET)
const URL_TABLE = decodeTable(URL_ALPHABET)

function encode(bytes: Uint8Array, alphabet: string): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out +=
      alphabet[(n >> 18) & 63]! +
      alphabet[(n >> 12) & 63]! +
      alphabet[(n >> 6) & 63]! +
      alphabet[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]!
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]!
  }
  return out
}

function decode(text: string, table: Int8Array, label: string): Uint8Array {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--
  if (end % 4 === 1) throw new Base64Error(`invalid ${label} length`)
  const out = new Uint8Array(Math.floor((end * 6) / 8))
  let buffer = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? table[code]! : -1
    if (value < 0) throw new Base64Error(`invalid ${label} character at offset ${i}`)
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (buffer >> bits) & 0xff
    }
  }
  return out
}

/** Standard alphabet, no padding (the form atproto writes in `$bytes`). */
export function base64Encode(bytes: Uint8Array): string {
  return encode(bytes, STANDARD_ALPHABET)
}

/** Standard alphabet; padding optional and non-zero trailing bits ignored. */
export function base64Decode(text: string): Uint8Array {
  return decode(text, STANDARD_TABLE, 'base64')
}

/** URL-safe alphabet, no padding (JWT segments). */
export function base64UrlEncode(bytes: Uint8Array): string {
  return encode(bytes, URL_ALPHABET)
}

/** URL-safe alphabet; padding optional and non-zero trailing bits ignored. */
export function base64UrlDecode(text: string): Uint8Array {
  return decode(text, URL_TABLE, 'base64url')
}
