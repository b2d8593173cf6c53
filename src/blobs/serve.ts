/**
 * Serving a blob's bytes from R2 as a stream, with the headers that keep a hostile upload
 * inert when opened in a browser, and single byte ranges for video players.
 */
import type { BlobRow } from '../db/blobs.ts'
import { RequestRefusedError } from '../errors.ts'

/** A blob whose object is missing. */
export class BlobNotFoundError extends RequestRefusedError {
  override name = 'BlobNotFoundError'
}

export interface ByteRange {
  offset: number
  length: number
}

/**
 * The one byte range a `Range` header asks for; null to serve the whole blob (no header, a
 * form we do not serve such as several ranges, or a malformed one, which RFC 9110 lets a
 * server ignore); 'unsatisfiable' when it starts past the end.
 */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | 'unsatisfiable' | null {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/i)
  if (!match) return null
  const [, first = '', last = ''] = match
  if (first === '') {
    if (last === '') return null
    const suffix = Number(last)
    if (suffix === 0) return 'unsatisfiable'
    const length = Math.min(suffix, size)
    return { offset: size - length, length }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return null
  if (start >= size) return 'unsatisfiable'
  const end = last === '' ? size - 1 : Number(last)
  return { offset: start, length: Math.min(end, size - 1) - start + 1 }
}

/** Headers every blob response carries [spec:blob]. */
export function blobHeaders(row: Pick<BlobRow, 'cid' | 'mimeType'>): Record<string, string> {
  return {
    'Content-Type': row.mimeType,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Content-Disposition': `attachment; filename="${row.cid}"`,
    'Accept-Ranges': 'bytes',
    ETag: `"${row.cid}"`,
  }
}

export async function serveBlob(
  bucket: R2Bucket,
  row: BlobRow,
  request: Request,
): Promise<Response> {
  const headers = blobHeaders(row)
  const ifRange = request.headers.get('if-range')
  const range =
    ifRange === null || ifRange === headers.ETag
      ? parseRange(request.headers.get('range'), row.size)
      : null
  if (range === 'unsatisfiable') {
    return new Response(null, {
      status: 416,
      headers: { ...headers, 'Content-Range': `bytes */${row.size}` },
    })
  }
  const responseHeaders: Record<string, string> = {
    ...headers,
    'Content-Length': String(range ? range.length : row.size),
  }
  if (range) {
    const last = range.offset + range.length - 1
    responseHeaders['Content-Range'] = `bytes ${range.offset}-${last}/${row.size}`
  }
  const status = range ? 206 : 200
  if (request.method === 'HEAD') {
    return new Response(null, { status, headers: responseHeaders })
  }
  const object = await bucket.get(row.key, range ? { range } : {})
  if (!object) throw new BlobNotFoundError(`Blob not found: ${row.cid}`, 'BlobNotFound')
  return new Response(object.body, { status, headers: responseHeaders })
}
