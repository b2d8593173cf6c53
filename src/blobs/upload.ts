/**
 * `uploadBlob`: the request body streams straight into R2 while its SHA-256 and length are
 * computed on the way, so a 100 MB video never sits in the Worker's memory. Only the first
 * few bytes are kept, to check the declared MIME type.
 *
 * The stream to R2 goes through a `FixedLengthStream` of the declared `Content-Length`: R2
 * needs the length up front, and the stream fails if the body turns out longer or shorter.
 * The object's key is queued for deletion before the upload starts and taken off the queue
 * when the blob's row is stored, so a Worker that dies half way leaves nothing behind for
 * long (see src/blobs/gc.ts).
 */
import * as Digest from 'multiformats/hashes/digest'
import type { Config } from '../config.ts'
import type { BlobRef } from '../data/blob-ref.ts'
import { CID, RAW_CODEC, SHA2_256_CODE } from '../data/cid.ts'
import {
  clearBlobDeletions,
  getBlobUsage,
  insertUploadedBlob,
  queueUploadObject,
} from '../db/blobs.ts'
import { getDb } from '../db/index.ts'
import { InvalidRequestError, PayloadTooLargeError } from '../xrpc/errors.ts'
import { createSha256 } from './hash.ts'
import { newBlobKey } from './keys.ts'
import { chooseMimeType, SNIFF_BYTES } from './mime.ts'

/** An upload not stored within a day is treated as abandoned and its object deleted. */
const UPLOAD_ABANDONED_MS = 24 * 60 * 60 * 1000

export interface UploadRequest {
  did: string
  /** The request's `Content-Type`. */
  contentType: string | null
  contentLength: number | null
  body: ReadableStream<Uint8Array> | null
}

export class BodyLengthMismatchError extends Error {
  override name = 'BodyLengthMismatchError'
}

export async function uploadBlob(env: Env, config: Config, req: UploadRequest): Promise<BlobRef> {
  const length = checkLength(req.contentLength, config.blobUploadLimit)
  const db = getDb(env.DB)
  const quota = config.blobQuotaBytes
  if (quota !== null) {
    const usage = await getBlobUsage(db, req.did)
    if (usage.blobBytes + length > quota) throw quotaExceeded(quota)
  }

  const key = newBlobKey(req.did)
  await queueUploadObject(
    db,
    req.did,
    key,
    new Date(Date.now() + UPLOAD_ABANDONED_MS).toISOString(),
  )
  let stored: StreamedObject
  try {
    stored = await streamToR2(env.STORAGE, key, req.body, length)
  } catch (err) {
    await discardObject(env, key)
    if (err instanceof BodyLengthMismatchError) {
      throw new InvalidRequestError(
        `Request body does not match its Content-Length: ${err.message}`,
      )
    }
    throw err
  }

  const cid = stored.cid.toString()
  const row = await insertUploadedBlob(env.DB, {
    did: req.did,
    cid,
    key,
    mimeType: chooseMimeType(req.contentType, stored.head),
    size: length,
    createdAt: new Date().toISOString(),
    quotaBytes: quota,
  })
  // Refused by the quota, or the account already holds these bytes: this object is spare.
  if (row?.key !== key) await discardObject(env, key)
  if (!row) throw quotaExceeded(quota ?? 0)
  return { $type: 'blob', ref: stored.cid, mimeType: row.mimeType, size: row.size }
}

function checkLength(contentLength: number | null, limit: number): number {
  if (contentLength === null) {
    throw new InvalidRequestError('A Content-Length header is required to upload a blob')
  }
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new InvalidRequestError('Invalid Content-Length')
  }
  // The data model calls a blob's size "positive, non-zero": an empty upload is refused.
  if (contentLength === 0) throw new InvalidRequestError('Request body is empty')
  if (contentLength > limit) {
    throw new PayloadTooLargeError(
      `This file is too large: ${contentLength} bytes, at most ${limit} may be uploaded`,
    )
  }
  return contentLength
}

function quotaExceeded(quota: number): InvalidRequestError {
  return new InvalidRequestError(
    `This account's blob storage is full (at most ${quota} bytes)`,
    'BlobQuotaExceeded',
  )
}

export interface StreamedObject {
  cid: CID
  size: number
  /** The first SNIFF_BYTES bytes (fewer if the body is shorter). */
  head: Uint8Array
}

/**
 * Streams `body` to R2 under `key`, hashing and counting it on the way. Throws
 * BodyLengthMismatchError if it is not exactly `length` bytes (the object is then not stored,
 * or is left for the caller to delete).
 */
export async function streamToR2(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array> | null,
  length: number,
): Promise<StreamedObject> {
  if (!body) throw new BodyLengthMismatchError(`no body, expected ${length} bytes`)
  const hash = createSha256()
  const head = new Uint8Array(SNIFF_BYTES)
  let size = 0
  const meter = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (size < SNIFF_BYTES) head.set(chunk.subarray(0, SNIFF_BYTES - size), size)
      size += chunk.byteLength
      if (size > length) throw new BodyLengthMismatchError(`more than ${length} bytes`)
      await hash.update(chunk)
      controller.enqueue(chunk)
    },
  })
  const fixed = new FixedLengthStream(length)
  const [piped, put] = await Promise.allSettled([
    body.pipeThrough(meter).pipeTo(fixed.writable),
    bucket.put(key, fixed.readable),
  ])
  if (size !== length) {
    throw new BodyLengthMismatchError(
      `${size < length ? 'got' : 'more than'} ${size} bytes, expected ${length}`,
    )
  }
  if (piped.status === 'rejected') throw piped.reason
  if (put.status === 'rejected') throw put.reason
  const digest = Digest.create(SHA2_256_CODE, await hash.digest())
  return {
    cid: CID.createV1(RAW_CODEC, digest),
    size,
    head: head.subarray(0, Math.min(size, SNIFF_BYTES)),
  }
}

/** Best effort: what fails here stays queued and the collector retries it. */
async function discardObject(env: Env, key: string): Promise<void> {
  try {
    await env.STORAGE.delete(key)
    await clearBlobDeletions(getDb(env.DB), [key])
  } catch (err) {
    console.warn('uploadBlob: could not discard an unused object; the collector will', err)
  }
}
