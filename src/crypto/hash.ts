import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

/** Synchronous SHA-256 (multiformats' hasher is async because it uses crypto.subtle). */
export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes)
}
