/**
 * Reading request bodies with a size cap, so a huge or lying client cannot make the Worker
 * buffer without bound.
 */
import { concatBytes } from '../data/bytes.ts'
import { jsonToIpld } from '../data/json.ts'
import { InvalidRequestError, PayloadTooLargeError } from './errors.ts'

/** Largest JSON request body by default: the reference PDS's `jsonLimit` (150 KiB). */
export const DEFAULT_JSON_BODY_BYTES = 150 * 1024

/**
 * Methods whose input carries records declare room for a whole commit (`maxJsonBodyBytes`):
 * a record may be 1 MB of CBOR and a commit 2 MB, and their JSON is larger (escapes, base64
 * for bytes).
 */
export const RECORD_WRITE_JSON_BODY_BYTES = 4 * 1024 * 1024

export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`request body is larger than ${limit} bytes`)
  }
  if (!request.body) return new Uint8Array(0)
  // An incoming request's body is no longer than its declared length: read it in one native
  // call. (A Request built in code may lie; the check after reading still holds the cap.)
  if (declared !== null && /^\d+$/.test(declared)) {
    const bytes = new Uint8Array(await request.arrayBuffer())
    if (bytes.byteLength > limit) {
      throw new PayloadTooLargeError(`request body is larger than ${limit} bytes`)
    }
    return bytes
  }
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel()
      throw new PayloadTooLargeError(`request body is larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  return concatBytes(chunks, total)
}

/**
 * Reads a JSON body of at most `maxBytes` and converts it to the data model (`$link` → CID,
 * `$bytes` → bytes). Like the reference, a body must say it is JSON.
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number = DEFAULT_JSON_BODY_BYTES,
): Promise<unknown> {
  const contentType = request.headers.get('content-type')
  if (!contentType) {
    throw new InvalidRequestError(
      'Request encoding (Content-Type) required but not provided; expected application/json',
    )
  }
  if (!isJsonContentType(contentType)) {
    throw new InvalidRequestError(
      `Wrong request encoding (Content-Type): ${contentType}; expected application/json`,
    )
  }
  const bytes = await readBodyBytes(request, maxBytes)
  if (bytes.byteLength === 0) throw new InvalidRequestError('Request body is required')
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(bytes))
  } catch {
    throw new InvalidRequestError('Request body is not valid JSON (or not valid UTF-8)')
  }
  try {
    return jsonToIpld(json)
  } catch (err) {
    throw new InvalidRequestError(`Request body is not valid atproto data: ${messageOf(err)}`)
  }
}

/** Strict: invalid UTF-8 is refused rather than stored as U+FFFD (the data model's strings are UTF-8). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * A procedure without input refuses a body, as the reference PDS does, instead of ignoring
 * whatever was sent.
 */
export function refuseUnexpectedBody(request: Request): void {
  const length = request.headers.get('content-length')
  const hasBody =
    (length !== null && length.trim() !== '0') || request.headers.has('transfer-encoding')
  if (hasBody) {
    throw new InvalidRequestError('A request body was provided when none was expected')
  }
}

function isJsonContentType(contentType: string): boolean {
  const mime = contentType.split(';')[0]?.trim().toLowerCase()
  return mime === 'application/json' || (mime?.endsWith('+json') ?? false)
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
