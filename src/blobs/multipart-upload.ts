/**
 * A body of unknown length (chunked transfer, no `Content-Length`) to R2. `put` needs the
 * length of a stream up front, so the body is gathered into parts of a fixed size and written
 * with a multipart upload: R2 wants every part but the last to be the same size, at least
 * 5 MiB. Only one part is held at a time. A body that fits in the first part (most images) is
 * written with a single `put` instead, with no multipart upload at all.
 *
 * If anything fails, reading stops and the multipart upload is aborted, so no parts are left
 * behind; an upload the Worker never gets to abort is left to the bucket's lifecycle rule for
 * incomplete multipart uploads (R2 aborts them after 7 days by default).
 */
import { createBodyMeter, type StreamedObject } from './meter.ts'

/** The size of every part but the last. R2's minimum is 5 MiB. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024
/** The part buffer starts this small and grows, so a small image never costs a whole part. */
const INITIAL_BUFFER_BYTES = 64 * 1024

export interface UnknownLengthOptions {
  /** Past this many bytes: `overflow(size)` is thrown, reading stops, parts are aborted. */
  maxSize: number
  overflow: (size: number) => Error
  partBytes?: number
}

/** Streams `body` to R2 under `key`, hashing and counting it on the way. */
export async function streamUnknownLengthToR2(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: UnknownLengthOptions,
): Promise<StreamedObject> {
  const meter = createBodyMeter(options.maxSize, options.overflow)
  const partBytes = options.partBytes ?? DEFAULT_PART_BYTES
  let part: Uint8Array = new Uint8Array(Math.min(partBytes, INITIAL_BUFFER_BYTES))
  let filled = 0
  const parts = createPartWriter(bucket, key)
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      await meter.add(value)
      for (let offset = 0; offset < value.byteLength; ) {
        const taken = Math.min(partBytes - filled, value.byteLength - offset)
        if (filled + taken > part.byteLength) part = grow(part, filled, filled + taken, partBytes)
        part.set(value.subarray(offset, offset + taken), filled)
        filled += taken
        offset += taken
        if (filled === partBytes) {
          // The part is sent once this resolves, so its buffer can be refilled.
          await parts.write(part)
          filled = 0
        }
      }
    }
    if (parts.started) {
      if (filled > 0) await parts.write(part.subarray(0, filled))
      await parts.complete()
    } else if (filled > 0) {
      await bucket.put(key, part.subarray(0, filled))
    }
  } catch (err) {
    await reader.cancel(err).catch(() => {})
    await parts.abort()
    throw err
  }
  return meter.finish()
}

/** A larger buffer holding the first `filled` bytes of `buffer`: doubled, within `max`. */
function grow(buffer: Uint8Array, filled: number, needed: number, max: number): Uint8Array {
  const grown = new Uint8Array(Math.min(max, Math.max(needed, buffer.byteLength * 2)))
  grown.set(buffer.subarray(0, filled))
  return grown
}

interface PartWriter {
  /** Whether a multipart upload has been created (by the first `write`). */
  readonly started: boolean
  write(bytes: Uint8Array): Promise<void>
  complete(): Promise<void>
  /** Best effort, and a no-op before the first `write`. */
  abort(): Promise<void>
}

function createPartWriter(bucket: R2Bucket, key: string): PartWriter {
  let upload: R2MultipartUpload | null = null
  const uploaded: R2UploadedPart[] = []
  return {
    get started() {
      return upload !== null
    },
    async write(bytes) {
      upload ??= await bucket.createMultipartUpload(key)
      uploaded.push(await upload.uploadPart(uploaded.length + 1, bytes))
    },
    async complete() {
      await upload?.complete(uploaded)
    },
    async abort() {
      if (upload) await abortQuietly(upload)
    },
  }
}

/** Best effort: an abort that fails leaves the parts to the bucket's lifecycle rule. */
async function abortQuietly(upload: R2MultipartUpload): Promise<void> {
  try {
    await upload.abort()
  } catch (err) {
    console.warn('uploadBlob: could not abort a multipart upload', err)
  }
}
