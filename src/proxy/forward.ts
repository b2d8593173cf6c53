/**
 * One forwarded XRPC call: the client's request, re-addressed to the target service with a
 * service-auth token and allow-listed headers, and the upstream's answer streamed back.
 *
 * Limits: the request body is read whole before the call, and one larger than
 * `maxRequestBytes` is refused (413), up front when its length is declared. A response larger
 * than `maxResponseBytes` is refused (502) when declared, else the stream to the client is cut
 * at the limit. One deadline covers the whole exchange, response body included.
 */
import type { ProxyConfig } from '../config.ts'
import { type FetchFn, globalFetch } from '../identity/http.ts'
import { readBodyBytes } from '../xrpc/body.ts'
import { InvalidRequestError, UpstreamFailureError } from '../xrpc/errors.ts'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.ts'
import { limitStream } from './limited-stream.ts'
import type { ProxyTarget } from './target.ts'
import { upstreamErrorResponse, upstreamFetchError } from './upstream-errors.ts'

/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304])

export interface ForwardRequest {
  nsid: string
  /** The client's request: its verb, query string, allowed headers and (unread) body. */
  request: Request
  target: ProxyTarget
  /** The `Authorization` value for the upstream (`Bearer <service token>`). */
  authorization: string
  /** A body to send instead of the request's own, when the dispatcher already read it. */
  body?: { bytes: Uint8Array; contentType: string }
  limits: ProxyConfig
  fetch?: FetchFn
}

export async function forwardXrpc(opts: ForwardRequest): Promise<Response> {
  const { request, target, limits } = opts
  const method = request.method
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    throw new InvalidRequestError(`XRPC calls are GET or POST, not ${method}`)
  }
  const url = `${target.url}/xrpc/${opts.nsid}${new URL(request.url).search}`
  const serviceName = target.aud

  let body: Uint8Array | null = null
  if (method === 'POST' && opts.body) {
    body = opts.body.bytes
  } else if (method === 'POST' && request.body) {
    if (Number.isNaN(declaredLength(request.headers))) {
      throw new InvalidRequestError('invalid content-length')
    }
    // Read whole before forwarding: a client body streamed into a fetch that fails is
    // cancelled mid-upload, and workerd then resets the client's connection or answers a
    // bare 500 instead of our 502.
    body = await readBodyBytes(request, limits.maxRequestBytes)
  }
  const headers = upstreamRequestHeaders(request.headers, {
    authorization: opts.authorization,
    hasBody: body !== null,
    contentLength: body?.byteLength ?? null,
  })
  if (opts.body) headers.set('content-type', opts.body.contentType)

  const signal = AbortSignal.timeout(limits.timeoutMs)
  const init: RequestInit = { method, headers, body, signal, redirect: 'manual' }
  let upstream: Response
  try {
    upstream = await (opts.fetch ?? globalFetch)(url, init)
  } catch {
    throw upstreamFetchError(serviceName, signal.aborted)
  }

  const responseHeaders = clientResponseHeaders(upstream.headers)
  if (upstream.status >= 400) {
    return upstreamErrorResponse(upstream, responseHeaders, serviceName)
  }
  if (upstream.status >= 300) {
    await upstream.body?.cancel()
    throw new UpstreamFailureError(`${serviceName} answered with a redirect`)
  }
  // A compressed length over the limit means more decoded bytes still; the stream limit
  // below counts the decoded ones in any case.
  const length = declaredLength(upstream.headers)
  if (length !== null && length > limits.maxResponseBytes) {
    await upstream.body?.cancel()
    throw new UpstreamFailureError(
      `${serviceName} answered with more than ${limits.maxResponseBytes} bytes`,
    )
  }
  const passBody =
    upstream.body !== null && method !== 'HEAD' && !NULL_BODY_STATUSES.has(upstream.status)
  if (!passBody) await upstream.body?.cancel()
  return new Response(
    passBody && upstream.body ? limitStream(upstream.body, limits.maxResponseBytes) : null,
    { status: upstream.status, headers: responseHeaders },
  )
}

/** The content-length header: null when absent, NaN when malformed. */
function declaredLength(headers: Headers): number | null {
  const raw = headers.get('content-length')
  if (raw === null) return null
  const value = Number(raw)
  return Number.isSafeInteger(value) && value >= 0 ? value : Number.NaN
}
