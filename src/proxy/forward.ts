/**
 * One forwarded XRPC call: the client's request, re-addressed to the target service with a
 * service-auth token and allow-listed headers, and the upstream's answer streamed back.
 *
 * Limits: a request body larger than `maxRequestBytes` is refused (413) up front when its
 * length is declared, or cut off while streaming; a response larger than `maxResponseBytes`
 * is refused (502) when declared, else the stream to the client is cut at the limit. One
 * deadline covers the whole exchange, response body included.
 */
import type { ProxyConfig } from '../config.ts'
import { type FetchFn, globalFetch } from '../identity/http.ts'
import { InvalidRequestError, PayloadTooLargeError, UpstreamFailureError } from '../xrpc/errors.ts'
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

type StreamingRequestInit = RequestInit & { duplex?: 'half' }

export async function forwardXrpc(opts: ForwardRequest): Promise<Response> {
  const { request, target, limits } = opts
  const method = request.method
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    throw new InvalidRequestError(`XRPC calls are GET or POST, not ${method}`)
  }
  const url = `${target.url}/xrpc/${opts.nsid}${new URL(request.url).search}`
  const serviceName = target.aud

  let requestLimitHit = false
  let body: BodyInit | null = null
  let contentLength: number | null = null
  if (method === 'POST' && opts.body) {
    body = opts.body.bytes
    contentLength = opts.body.bytes.byteLength
  } else if (method === 'POST' && request.body) {
    contentLength = declaredLength(request.headers)
    if (Number.isNaN(contentLength)) throw new InvalidRequestError('invalid content-length')
    if (contentLength !== null && contentLength > limits.maxRequestBytes) {
      throw new PayloadTooLargeError(`request body is larger than ${limits.maxRequestBytes} bytes`)
    }
    // A declared length is enforced by HTTP framing; only a chunked body needs counting.
    body =
      contentLength !== null
        ? request.body
        : limitStream(request.body, limits.maxRequestBytes, () => {
            requestLimitHit = true
          })
  }
  const headers = upstreamRequestHeaders(request.headers, {
    authorization: opts.authorization,
    hasBody: body !== null,
    contentLength,
  })
  if (opts.body) headers.set('content-type', opts.body.contentType)

  const signal = AbortSignal.timeout(limits.timeoutMs)
  const init: StreamingRequestInit = { method, headers, body, signal, redirect: 'manual' }
  if (body instanceof ReadableStream) init.duplex = 'half'
  let upstream: Response
  try {
    upstream = await (opts.fetch ?? globalFetch)(url, init)
  } catch {
    if (requestLimitHit) {
      throw new PayloadTooLargeError(`request body is larger than ${limits.maxRequestBytes} bytes`)
    }
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
