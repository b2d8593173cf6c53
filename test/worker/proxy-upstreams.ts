/**
 * Stand-in upstream services for the proxy tests in workerd, where a test cannot listen on a
 * port: the Worker under test runs in the test's isolate, so a spy on the global fetch answers
 * its outbound calls to the given origins (and lets everything else, like the local PLC
 * directory, through). Every intercepted call is recorded with its body.
 */
import { inject, vi } from 'vitest'
import { verifyServiceAuthToken } from '../../src/auth/service-auth.ts'
import { DidResolver } from '../../src/identity/did-resolver.ts'

export interface UpstreamCall {
  url: URL
  method: string
  headers: Headers
  body: string
  /** How the caller asked fetch to treat redirects (the stand-in never follows them). */
  redirect: Request['redirect']
}

export type UpstreamHandler = (request: Request) => Response | Promise<Response>

/** Answers fetches to each origin (`https://api.bsky.app`) with its handler. */
export function fakeUpstreams(routes: Record<string, UpstreamHandler>): UpstreamCall[] {
  const calls: UpstreamCall[] = []
  const realFetch = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init)
    const handler = routes[new URL(request.url).origin]
    if (!handler) return realFetch(input, init)
    const body = request.body ? await request.text() : ''
    calls.push({
      url: new URL(request.url),
      method: request.method,
      headers: request.headers,
      body,
      redirect: request.redirect,
    })
    const replay = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: body || undefined,
    })
    // An aborted call (the proxy's deadline) rejects like a real fetch would.
    const signal = init?.signal
    return new Promise<Response>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason))
      Promise.resolve(handler(replay)).then(resolve, reject)
    })
  })
  return calls
}

/** A did:web document with one service, as `https://<host>/.well-known/did.json` serves it. */
export function didWebDocument(host: string, serviceId: string, type: string, endpoint: string) {
  const did = `did:web:${host}`
  return {
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: did,
    service: [{ id: `#${serviceId}`, type, serviceEndpoint: endpoint }],
  }
}

export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers)
  if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  return new Response(JSON.stringify(body), { ...init, headers })
}

const resolver = new DidResolver({ plcUrl: inject('plcUrl') })

/**
 * Checks a forwarded request's service token the way the receiving service would: signed by
 * the `#atproto` key of the issuer's DID document (from the PLC directory), for `aud` and `lxm`.
 */
export async function verifyForwardedToken(
  call: UpstreamCall,
  expected: { aud: string; lxm: string },
) {
  const header = call.headers.get('authorization') ?? ''
  const token = header.replace(/^Bearer /, '')
  return verifyServiceAuthToken(token, {
    audience: expected.aud,
    lxm: expected.lxm,
    resolveSigningKey: async (did) => {
      const data = await resolver.resolveAtprotoData(did, { forceRefresh: true })
      if (!data.signingKey) throw new Error(`no signing key for ${did}`)
      return data.signingKey
    },
  })
}
