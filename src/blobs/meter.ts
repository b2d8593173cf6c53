/**
 * What an upload learns from its body on the way to R2, whichever way it is written: the
 * SHA-256 (hence the CID), the size, and the first few bytes for the MIME sniffer. Only those
 * few bytes are kept; the body itself passes through.
 */
import * as Digest from 'multiformats/hashes/digest'
import { CID, RAW_CODEC, SHA2_256_CODE } from '../data/cid.ts'
import { createSha256 } from './hash.ts'
import { SNIFF_BYTES } from './mime.ts'

export interface StreamedObject {
  cid: CID
  size: number
  /** The first SNIFF_BYTES bytes (fewer if the body is shorter). */
  head: Uint8Array
}

export interface BodyMeter {
  /** Bytes seen so far. */
  readonly size: number
  /**
   * Counts, keeps the leading bytes and hashes one chunk; the caller awaits before the next.
   * Past `maxSize` it throws `overflow(size)` before hashing, so the caller stops reading.
   */
  add(chunk: Uint8Array): Promise<void>
  finish(): Promise<StreamedObject>
}

export function createBodyMeter(maxSize: number, overflow: (size: number) => Error): BodyMeter {
  const hash = createSha256()
  const head = new Uint8Array(SNIFF_BYTES)
  let size = 0
  return {
    get size() {
      return size
    },
    async add(chunk) {
      if (size < SNIFF_BYTES) head.set(chunk.subarray(0, SNIFF_BYTES - size), size)
      size += chunk.byteLength
      if (size > maxSize) throw overflow(size)
      await hash.update(chunk)
    },
    async finish() {
      const digest = Digest.create(SHA2_256_CODE, await hash.digest())
      return {
        cid: CID.createV1(RAW_CODEC, digest),
        size,
        head: head.subarray(0, Math.min(size, SNIFF_BYTES)),
      }
    },
  }
}
