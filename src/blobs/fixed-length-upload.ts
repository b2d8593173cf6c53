/**
 * A body of declared length to R2 in one `put`: the stream goes through a `FixedLengthStream`
 * of the declared `Content-Length` (R2 needs the length of a stream up front), which fails if
 * the body turns out longer or shorter.
 */
import { type BodyMeter, createBodyMeter, type StreamedObject } from './meter.ts'

export class BodyLengthMismatchError extends Error {
  override name = 'BodyLengthMismatchError'
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
  const meter: BodyMeter = createBodyMeter(
    length,
    () => new BodyLengthMismatchError(`more than ${length} bytes`),
  )
  const metered = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      await meter.add(chunk)
      controller.enqueue(chunk)
    },
  })
  const fixed = new FixedLengthStream(length)
  const [piped, put] = await Promise.allSettled([
    body.pipeThrough(metered).pipeTo(fixed.writable),
    bucket.put(key, fixed.readable),
  ])
  if (meter.size !== length) {
    throw new BodyLengthMismatchError(
      `${meter.size < length ? 'got' : 'more than'} ${meter.size} bytes, expected ${length}`,
    )
  }
  if (piped.status === 'rejected') throw piped.reason
  if (put.status === 'rejected') throw put.reason
  return meter.finish()
}
