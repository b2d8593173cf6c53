// crypto.getRandomValues refuses requests above 65,536 bytes, so larger ones are filled in chunks.
const MAX_CHUNK = 65_536

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let offset = 0; offset < length; offset += MAX_CHUNK) {
    crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + MAX_CHUNK)))
  }
  return out
}
