/**
 * Unsigned LEB128 varints (multiformats "unsigned-varint"), as used for CAR length prefixes.
 *
 * Decoding is strict: minimal encodings only, and values limited to safe integers, since
 * every varint here is a byte length.
 */

export class VarintError extends Error {
  override name = 'VarintError'
}

/** 8 bytes carry 56 bits, enough for any safe integer. */
export const MAX_VARINT_BYTES = 8

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VarintError(`cannot encode ${value} as an unsigned varint`)
  }
  const out = new Uint8Array(varintLength(value))
  let rest = value
  let i = 0
  while (rest >= 0x80) {
    out[i++] = (rest % 0x80) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  out[i] = rest
  return out
}

export function varintLength(value: number): number {
  let length = 1
  let rest = value
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80)
    length++
  }
  return length
}

/**
 * Decodes the varint starting at `offset`. Returns null when the bytes end before the varint
 * does (a streaming reader then waits for more input); throws VarintError when it is malformed.
 */
export function decodeVarint(
  bytes: Uint8Array,
  offset = 0,
): { value: number; length: number } | null {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) return null
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw new VarintError('varint is not minimally encoded')
      if (!Number.isSafeInteger(value)) throw new VarintError('varint exceeds 2^53 - 1')
      return { value, length: i + 1 }
    }
    scale *= 0x80
  }
  throw new VarintError(`varint is longer than ${MAX_VARINT_BYTES} bytes`)
}
