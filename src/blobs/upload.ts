/**
 * `uploadBlob`: the request body streams straight into R2 while its SHA-256 and length are
 * computed on the way, so a 100 MB video never sits in the Worker's memory. Only the first
 * few bytes are kept, to check the declared MIME type.
 *
 * A body with a `Content-Length` goes to R2 in one `put` (src/blobs/fixed-length-upload.ts);
 * one without (chunked transfer) in parts of a multipart upload, or one `put` if it fits in
 * the first part (src/blobs/multipart-upload.ts). The object's key is queued for deletion
 * before the upload starts and taken off the queue when the blob's row is stored, so a Worker
 * that dies half way leaves nothing behind for long (see src/blobs/gc.ts).
 */
import type { Config } from '../config.ts'
import type { BlobRef } from '../data/blob-ref.ts'
import {
  clearBlobDeletions,
  getBlobUsage,
  insertUploadedBlob,
  queueUploadObject,
} from '../db/blobs.ts'
import { getDb } from '../db/index.ts'
import { RequestRefusedError, TooLargeError } from '../errors.ts'
import { BodyLengthMismatchError, streamToR2 } from './fixed-length-upload.ts'
import { newBlobKey } from './keys.ts'
import type { StreamedObject } from './meter.ts'
import { chooseMimeType } from './mime.ts'
import { streamUnknownLengthToR2 } from './multipart-upload.ts'

/** An upload that cannot be stored as sent. */
export class BlobUploadError extends RequestRefusedError {
  override name = 'BlobUploadError'
}

/** An upload over the size limit. */
export class BlobTooLargeError extends TooLargeError {
  override name = 'BlobTooLargeError'
}

/** An upload not stored within a day is treated as abandoned and its object deleted. */
const UPLOAD_ABANDONED_MS = 24 * 60 * 60 * 1000

export interface UploadRequest {
  did: string
  /** The request's `Content-Type`. */
  contentType: string | null
  contentLength: number | null
  body: ReadableStream<Uint8Array> | null
  /** Part size for bodies of unknown length (tests lower it; R2 needs at least 5 MiB). */
  partBytes?: number
  /**
   * Throws if the caller may not store a blob of this type. The dispatcher checked the
   * declared type; the bytes may decide another one (`chooseMimeType`), known only here.
   */
  authorizeType?: (mimeType: string) => void
  /**
   * A check of the caller's (its account's state) already under way: awaited beside the quota
   * read, so the two are one round trip, and before anything is written.
   */
  precondition?: Promise<unknown>
}

export async function uploadBlob(env: Env, config: Config, req: UploadRequest): Promise<BlobRef> {
  const length = checkLength(req.contentLength, config.blobUploadLimit)
  // Without a declared length there is nothing to stream when there is no body at all.
  if (length === null && !req.body) throw emptyBody()
  const db = getDb(env.DB)
  const quota = config.blobQuotaBytes
  // What this account may still store, if the quota binds before the upload limit.
  let allowance: number | null = null
  const [, usage] = await Promise.all([
    req.precondition,
    quota === null ? null : getBlobUsage(db, req.did),
  ])
  if (quota !== null && usage) {
    // A blob has at least one byte: an unknown length is checked as that much here, and
    // against the bytes as they arrive.
    if (usage.blobBytes + (length ?? 1) > quota) throw quotaExceeded(quota)
    allowance = quota - usage.blobBytes
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
    stored =
      length === null
        ? await streamUnknownLengthToR2(env.STORAGE, key, req.body!, {
            ...sizeBounds(config.blobUploadLimit, allowance, quota),
            partBytes: req.partBytes,
          })
        : await streamToR2(env.STORAGE, key, req.body, length)
    if (stored.size === 0) throw emptyBody()
  } catch (err) {
    await discardObject(env, key)
    if (err instanceof BodyLengthMismatchError) {
      throw new BlobUploadError(`Request body does not match its Content-Length: ${err.message}`)
    }
    throw err
  }

  const mimeType = chooseMimeType(req.contentType, stored.head)
  try {
    req.authorizeType?.(mimeType)
  } catch (err) {
    await discardObject(env, key)
    throw err
  }
  const cid = stored.cid.toString()
  const row = await insertUploadedBlob(env.DB, {
    did: req.did,
    cid,
    key,
    mimeType,
    size: stored.size,
    createdAt: new Date().toISOString(),
    quotaBytes: quota,
  })
  // Refused by the quota, or the account already holds these bytes: this object is spare.
  if (row?.key !== key) await discardObject(env, key)
  if (!row) throw quotaExceeded(quota ?? 0)
  return { $type: 'blob', ref: stored.cid, mimeType: row.mimeType, size: row.size }
}

/** The declared length, checked; null when the body is chunked (no `Content-Length`). */
function checkLength(contentLength: number | null, limit: number): number | null {
  if (contentLength === null) return null
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new BlobUploadError('Invalid Content-Length')
  }
  // The data model calls a blob's size "positive, non-zero": an empty upload is refused.
  if (contentLength === 0) throw emptyBody()
  if (contentLength > limit) throw tooLarge(contentLength, limit)
  return contentLength
}

/**
 * How far a body of unknown length may go, and what to answer past it: the upload limit
 * (413), or the account's remaining quota if that is smaller, so an upload that cannot fit
 * stops as soon as it is known. (The quota is still enforced atomically when the row is stored.)
 */
function sizeBounds(limit: number, allowance: number | null, quota: number | null) {
  if (allowance !== null && allowance < limit) {
    return { maxSize: allowance, overflow: () => quotaExceeded(quota ?? 0) }
  }
  return {
    maxSize: limit,
    overflow: (size: number) => tooLarge(size, limit, 'more than '),
  }
}

function emptyBody(): BlobUploadError {
  return new BlobUploadError('Request body is empty')
}

function tooLarge(size: number, limit: number, prefix = ''): BlobTooLargeError {
  return new BlobTooLargeError(
    `This file is too large: ${prefix}${size} bytes, at most ${limit} may be uploaded`,
  )
}

function quotaExceeded(quota: number): BlobUploadError {
  return new BlobUploadError(
    `This account's blob storage is full (at most ${quota} bytes)`,
    'BlobQuotaExceeded',
  )
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
