/**
 * One forwarded exchange (src/proxy/forward.ts) with an injected fetch: the deadline, the size
 * limits both ways, and streaming.
 */
import { describe, expect, it } from 'vitest'
import type { ProxyConfig } from '../../src/config.ts'
import type { FetchFn } from '../../src/identity/http.ts'
import { forwardXrpc } from '../../src/proxy/forward.ts'
import { XrpcError } from '../../src/xrpc/errors.ts'

const target = { url: 'https://appview.example', aud: 'did:web:appview.example#bsky_appview' }
const limits: ProxyConfig = { timeoutMs: 200, maxRequestBytes: 1000, maxResponseBytes: 1000 }

function clientRequest(init: RequestInit = {}, query = ''): Request {
  return new Request(`https://pds.example/xrpc/app.bsky.feed.getTimeline${query}`, init)
}

async function thrown(promise: Promise<unknown>): Promise<XrpcError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof XrpcError) return err
    throw err
  }
  throw new Error('expected an XRPC error')
}

/** A fetch that never answers, but gives up like a real one when its signal aborts. */
const hangingFetch: FetchFn = (_url, init) =>
  new Promise((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
  })

function bytes(n: number): Uint8Array {
  return new Uint8Array(n).fill(97)
}

describe('forwardXrpc', () => {
  it('sends the query string to the target path with the service token', async () => {
    let seen: { url: string; auth: string | null } | null = null
    const fetch: FetchFn = async (url, init) => {
      seen = { url, auth: new Headers(init?.headers).get('authorization') }
      return new Response('{"feed":[]}', { headers: { 'content-type': 'application/json' } })
    }
    const res = await forwardXrpc({
      nsid: 'app.bsky.feed.getTimeline',
      request: clientRequest({}, '?limit=5&cursor=a%20b'),
      target,
      authorization: 'Bearer service-token',
      limits,
      fetch,
    })
    expect(res.status).toBe(200)
    // Whatever the upstream labels its body, a browser must not sniff it into something else.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.json()).toEqual({ feed: [] })
    expect(seen).toEqual({
      url: 'https://appview.example/xrpc/app.bsky.feed.getTimeline?limit=5&cursor=a%20b',
      auth: 'Bearer service-token',
    })
  })

  it('answers 504 UpstreamTimeout when the service does not answer in time', async () => {
    const started = Date.now()
    const err = await thrown(
      forwardXrpc({
        nsid: 'app.bsky.feed.getTimeline',
        request: clientRequest(),
        target,
        authorization: 'Bearer t',
        limits,
        fetch: hangingFetch,
      }),
    )
    expect(err.status).toBe(504)
    expect(err.error).toBe('UpstreamTimeout')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('refuses a declared request body over the limit before contacting the service', async () => {
    let called = false
    const err = await thrown(
      forwardXrpc({
        nsid: 'app.bsky.feed.getTimeline',
        request: clientRequest({
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': '1001' },
          body: bytes(1001),
        }),
        target,
        authorization: 'Bearer t',
        limits,
        fetch: async () => {
          called = true
          return new Response('{}')
        },
      }),
    )
    expect(err.status).toBe(413)
    expect(called).toBe(false)
  })

  it('cuts off a streamed request body past the limit', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(bytes(300))
        controller.close()
      },
    })
    const fetch: FetchFn = async (_url, init) => {
      // Reading the body is what a real fetch does while sending it.
      await new Response(init?.body).arrayBuffer()
      return new Response('{}')
    }
    const err = await thrown(
      forwardXrpc({
        nsid: 'app.bsky.feed.getTimeline',
        request: clientRequest({ method: 'POST', body, duplex: 'half' } as RequestInit),
        target,
        authorization: 'Bearer t',
        limits,
        fetch,
      }),
    )
    expect(err.status).toBe(413)
  })

  it('refuses a declared response over the limit with 502', async () => {
    const err = await thrown(
      forwardXrpc({
        nsid: 'app.bsky.feed.getTimeline',
        request: clientRequest(),
        target,
        authorization: 'Bearer t',
        limits,
        fetch: async () => new Response(bytes(2000), { headers: { 'content-length': '2000' } }),
      }),
    )
    expect(err.status).toBe(502)
    expect(err.error).toBe('UpstreamFailure')
  })

  it('streams the response, and breaks the stream past the limit', async () => {
    const fetch: FetchFn = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 4; i++) controller.enqueue(bytes(400))
            controller.close()
          },
        }),
      )
    const res = await forwardXrpc({
      nsid: 'app.bsky.feed.getTimeline',
      request: clientRequest(),
      target,
      authorization: 'Bearer t',
      limits,
      fetch,
    })
    expect(res.status).toBe(200)
    await expect(res.arrayBuffer()).rejects.toThrow(/more than 1000 bytes/)
  })

  it('forwards HEAD without a body', async () => {
    let method = ''
    const res = await forwardXrpc({
      nsid: 'app.bsky.feed.getTimeline',
      request: clientRequest({ method: 'HEAD' }),
      target,
      authorization: 'Bearer t',
      limits,
      fetch: async (_url, init) => {
        method = init?.method ?? ''
        return new Response(null, { headers: { 'content-type': 'application/json' } })
      },
    })
    expect(method).toBe('HEAD')
    expect(res.status).toBe(200)
    expect(res.body).toBeNull()
  })
})
