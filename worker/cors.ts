/**
 * CORS for browser clients: any origin, no credentials. Hono's `cors()` middleware did this
 * before; it builds a placeholder Response before the route runs and then copies the route's
 * response with every header into a new one, two Response objects per request that the
 * profile of getRecord showed. Here the route's own response gets two headers (copied only
 * when its headers are immutable, as a fetched response's are).
 */
import type { MiddlewareHandler } from 'hono'
import { BOOKMARK_HEADER } from '../src/db/session.ts'

const ALLOW_METHODS = 'GET,HEAD,POST,PUT,DELETE,OPTIONS'
const EXPOSE_HEADERS = [
  'atproto-repo-rev',
  'atproto-content-labelers',
  'dpop-nonce',
  'www-authenticate',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  BOOKMARK_HEADER,
].join(',')
const MAX_AGE_SECONDS = '86400'

/** A preflight (OPTIONS) is answered here; any other response gets the CORS headers. */
export const cors: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'OPTIONS') return preflight(c.req.raw)
  await next()
  try {
    setCorsHeaders(c.res.headers)
  } catch {
    const copy = new Response(c.res.body, c.res)
    setCorsHeaders(copy.headers)
    c.res = copy
  }
}

function setCorsHeaders(headers: Headers): void {
  headers.set('Access-Control-Allow-Origin', '*')
  headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS)
}

function preflight(request: Request): Response {
  const headers = new Headers()
  setCorsHeaders(headers)
  headers.set('Access-Control-Max-Age', MAX_AGE_SECONDS)
  headers.set('Access-Control-Allow-Methods', ALLOW_METHODS)
  const requested = request.headers.get('Access-Control-Request-Headers')
  if (requested) {
    headers.set(
      'Access-Control-Allow-Headers',
      requested
        .split(',')
        .map((h) => h.trim())
        .join(','),
    )
    headers.append('Vary', 'Access-Control-Request-Headers')
  }
  return new Response(null, { status: 204, statusText: 'No Content', headers })
}
