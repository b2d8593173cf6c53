/**
 * What the client sees when the upstream service fails. Every failure is an XRPC error: an
 * upstream XRPC error (4xx, or 501-504) passes through with its status and body; an upstream
 * 500 or odd status becomes `UpstreamFailure` (502) with the upstream's message; an
 * unreachable service is `UpstreamFailure` and one too slow is `UpstreamTimeout` (504).
 * Never a bare 500 for someone else's problem.
 */
import {
  type ErrorBody,
  UpstreamFailureError,
  UpstreamTimeoutError,
  type XrpcError,
} from '../xrpc/errors.ts'
import { readTextPrefix } from './limited-stream.ts'

/** Upstream error bodies are small JSON; more than this is not read. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024

/** Statuses passed through as they are; other 5xx become 502. */
const PASSED_SERVER_STATUSES = new Set([501, 502, 503, 504])

const DEFAULT_ERROR_NAMES: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'XRPCNotSupported',
  413: 'PayloadTooLarge',
  429: 'RateLimitExceeded',
  501: 'MethodNotImplemented',
  502: 'UpstreamFailure',
  503: 'NotEnoughResources',
  504: 'UpstreamTimeout',
}

/** The client's response for an upstream answer with status >= 400. */
export async function upstreamErrorResponse(
  upstream: Response,
  headers: Headers,
  serviceName: string,
): Promise<Response> {
  const passStatus = upstream.status < 500 || PASSED_SERVER_STATUSES.has(upstream.status)
  const status = passStatus ? upstream.status : 502
  const read = await readErrorBody(upstream)
  headers.set('content-type', 'application/json; charset=utf-8')
  // An XRPC error body passes through byte for byte, extra fields included.
  if (read && passStatus) return new Response(read.text, { status, headers })
  const detail = read?.body.message ?? read?.body.error ?? `answered ${upstream.status}`
  const body: ErrorBody = {
    error: passStatus ? (DEFAULT_ERROR_NAMES[status] ?? 'InvalidRequest') : 'UpstreamFailure',
    message: `${serviceName}: ${detail}`,
  }
  return new Response(JSON.stringify(body), { status, headers })
}

/** A fetch that threw: the service could not be reached, or not within the deadline. */
export function upstreamFetchError(serviceName: string, timedOut: boolean): XrpcError {
  return timedOut
    ? new UpstreamTimeoutError(`${serviceName} did not answer in time`)
    : new UpstreamFailureError(`${serviceName} is unreachable`)
}

/** The body and its `{error, message?}` when it is an XRPC error; null for anything else. */
async function readErrorBody(
  upstream: Response,
): Promise<{ text: string; body: ErrorBody } | null> {
  let text: string
  try {
    const read = await readTextPrefix(upstream.body, MAX_ERROR_BODY_BYTES)
    if (read.truncated) return null
    text = read.text
  } catch {
    return null
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null
  const { error, message } = json as Record<string, unknown>
  if (typeof error !== 'string' || error.length === 0) return null
  return { text, body: typeof message === 'string' ? { error, message } : { error } }
}
