/** Small byte-array helpers shared by the data and repo layers. */

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

/** The parts one after another in a new array; `size` when the caller already knows the sum. */
export function concatBytes(parts: readonly Uint8Array[], size?: number): Uint8Array {
  const out = new Uint8Array(size ?? parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
