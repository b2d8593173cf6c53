/**
 * Comparisons whose running time does not depend on where two secrets first differ.
 */
import { sha256 } from '../crypto/hash.ts'

/** Equal-length byte arrays compared without an early exit; different lengths are unequal. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/**
 * Compares two strings through their SHA-256 digests, so that neither the position of the
 * first difference nor the length of the secret shows in the timing.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const encoder = new TextEncoder()
  return timingSafeEqual(sha256(encoder.encode(a)), sha256(encoder.encode(b)))
}
