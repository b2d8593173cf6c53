/**
 * Header allow-lists for proxied calls, both ways. Nothing else crosses: not the client's
 * credentials (the upstream gets a service-auth token instead), cookies, forwarding or
 * Cloudflare headers, nor the upstream's cookies, caching or CORS headers.
 *
 * Content and transfer encodings are left to the runtime: fetch decodes the upstream body and
 * the response to the client is re-encoded as needed, so `content-encoding` and
 * `content-length` are dropped on the way back (they described the upstream's bytes).
 */

/** Request headers passed to the upstream service. */
export const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'accept-language',
  'atproto-accept-labelers',
  'x-bsky-topics',
] as const

/** Request headers that describe a body, passed only with one. */
export const FORWARDED_BODY_HEADERS = ['content-type', 'content-encoding'] as const

/** Response headers passed back to the client. */
export const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'content-language',
  'atproto-repo-rev',
  'atproto-content-labelers',
  'retry-after',
] as const

export function upstreamRequestHeaders(
  incoming: Headers,
  opts: { authorization: string; hasBody: boolean; contentLength: number | null },
): Headers {
  const headers = new Headers()
  copy(incoming, headers, FORWARDED_REQUEST_HEADERS)
  if (opts.hasBody) {
    copy(incoming, headers, FORWARDED_BODY_HEADERS)
    if (opts.contentLength !== null) headers.set('content-length', String(opts.contentLength))
  }
  headers.set('authorization', opts.authorization)
  return headers
}

export function clientResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers()
  copy(upstream, headers, FORWARDED_RESPONSE_HEADERS)
  // The body comes from another service, served from our origin: never sniffed into HTML.
  headers.set('x-content-type-options', 'nosniff')
  return headers
}

function copy(from: Headers, to: Headers, names: readonly string[]): void {
  for (const name of names) {
    const value = from.get(name)
    if (value !== null) to.set(name, value)
  }
}
