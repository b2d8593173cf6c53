/**
 * The recovery key on paper: its 32 private bytes and a 3-byte checksum (the first bytes of
 * their SHA-256) in base32, 56 characters written as 14 groups of 4.
 *
 * @NOTE Why base32 groups rather than words: a word list would have to be generated and
 * shipped, and two lists that differ by one word would silently decode to different keys.
 * RFC 4648 base32 (lowercase, digits 2-7) needs no list, has no 0/O or 1/l look-alikes, is
 * case-insensitive when typed back, and the checksum catches a mistyped or swapped character
 * before the key is used.
 */

import { base32 } from 'multiformats/bases/base32'
import { sha256 } from '../../src/crypto/hash.ts'

const KEY_BYTES = 32
const CHECKSUM_BYTES = 3
const GROUP = 4

export class PaperKeyError extends Error {
  override name = 'PaperKeyError'
}

export function encodePaperKey(privateKey: Uint8Array): string[] {
  if (privateKey.length !== KEY_BYTES) throw new PaperKeyError('a private key is 32 bytes')
  const bytes = new Uint8Array(KEY_BYTES + CHECKSUM_BYTES)
  bytes.set(privateKey)
  bytes.set(sha256(privateKey).subarray(0, CHECKSUM_BYTES), KEY_BYTES)
  const text = base32.baseEncode(bytes)
  const groups: string[] = []
  for (let i = 0; i < text.length; i += GROUP) groups.push(text.slice(i, i + GROUP))
  return groups
}

/**
 * The private key from what the user typed: the paper key (spaces, dashes and case ignored),
 * or the 64 hex characters of the raw key.
 */
export function decodePaperKey(typed: string): Uint8Array {
  const compact = typed.toLowerCase().replace(/[\s-]/g, '')
  if (/^[0-9a-f]{64}$/.test(compact)) return Buffer.from(compact, 'hex')
  if (!/^[a-z2-7]{56}$/.test(compact)) {
    throw new PaperKeyError(
      'a recovery key is 14 groups of 4 characters (a-z, 2-7), or 64 hexadecimal characters',
    )
  }
  const bytes = base32.baseDecode(compact)
  const key = bytes.subarray(0, KEY_BYTES)
  const checksum = sha256(key).subarray(0, CHECKSUM_BYTES)
  if (!checksum.every((b, i) => b === bytes[KEY_BYTES + i])) {
    throw new PaperKeyError('the recovery key has a typing mistake (its checksum does not match)')
  }
  return Uint8Array.from(key)
}
