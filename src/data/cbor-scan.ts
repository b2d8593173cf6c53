/**
 * Reading the structure of DAG-CBOR bytes without decoding values: item heads and skipping
 * whole items. For hot paths that only need positions (splicing `seq` into a stored body,
 * finding the links of an MST node), where a full decode would build objects for nothing.
 */

export type Head = {
  /** CBOR major type, 0-7. */
  major: number
  /** The head's argument: a length, a count, an integer or a tag number. */
  value: number
  /** Position right after the head. */
  next: number
  indefinite: boolean
}

/** The head of the item at `pos`, or null if it is cut short or its argument is too large. */
export function readHead(bytes: Uint8Array, pos: number): Head | null {
  if (pos >= bytes.length) return null
  const initial = bytes[pos]!
  const major = initial >> 5
  const info = initial & 0x1f
  if (info < 24) return { major, value: info, next: pos + 1, indefinite: false }
  if (info === 31) return { major, value: 0, next: pos + 1, indefinite: true }
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
  if (size === 0 || pos + 1 + size > bytes.length) return null
  let value = 0
  for (let i = 0; i < size; i++) value = value * 256 + bytes[pos + 1 + i]!
  if (!Number.isSafeInteger(value)) return null
  return { major, value, next: pos + 1 + size, indefinite: false }
}

/** The position after the item at `pos`, or -1 if it cannot be read. */
export function skipItem(bytes: Uint8Array, pos: number, depth = 0): number {
  if (depth > 64) return -1
  const head = readHead(bytes, pos)
  if (!head || head.indefinite) return -1
  switch (head.major) {
    case 0:
    case 1:
    case 7:
      return head.next
    case 2:
    case 3:
      return head.next + head.value <= bytes.length ? head.next + head.value : -1
    case 4:
    case 5: {
      let next = head.next
      const items = head.major === 4 ? head.value : head.value * 2
      for (let i = 0; i < items && next >= 0; i++) next = skipItem(bytes, next, depth + 1)
      return next
    }
    case 6:
      return skipItem(bytes, head.next, depth + 1)
    default:
      return -1
  }
}

/** The head of a value of major type `major` with argument `value`, shortest form. */
export function encodeHead(major: number, value: number): Uint8Array {
  const type = major << 5
  if (value < 24) return new Uint8Array([type | value])
  if (value < 0x100) return new Uint8Array([type | 24, value])
  if (value < 0x10000) return new Uint8Array([type | 25, value >> 8, value & 0xff])
  if (value < 0x100000000) {
    return new Uint8Array([
      type | 26,
      (value >>> 24) & 0xff,
      (value >>> 16) & 0xff,
      (value >>> 8) & 0xff,
      value & 0xff,
    ])
  }
  const out = new Uint8Array(9)
  out[0] = type | 27
  let rest = value
  for (let i = 8; i >= 1; i--) {
    out[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return out
}
