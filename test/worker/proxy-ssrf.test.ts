/**
 * What a DID document may make this server fetch, outside local development: the proxy's
 * target and the feed-generator lookup refuse loopback, private, link-local and IP-literal
 * endpoints and other ports, follow no redirects, and do not echo what an upstream answered.
 */
import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type ConfigEnv, readConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import type { DidDocument } from '../../src/identity/did-document.ts'
import { resolveFeedGenerator } from '../../src/proxy/feed-generator.ts'
import { resolveServiceReference } from '../../src/proxy/target.ts'
import { XrpcError } from '../../src/xrpc/errors.ts'
import { didWebDocument, fakeUpstreams, json } from './proxy-upstreams.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

const UNSAFE_ENDPOINTS = [
  'https://127.0.0.1',
  'https://10.0.0.1',
  'https://192.168.1.1',
  'https://169.254.169.254',
  'https://[::1]',
  'https://[fd00::1]',
  'https://2130706433',
  'https://0x7f.1',
  'https://localhost',
  'https://printer.local',
  'https://metadata.internal',
  'https://service.example.com:8443',
  'http://service.example.com',
]

function docWith(endpoint: string): DidDocument {
  return didWebDocument('svc.example.com', 'svc', 'Other', endpoint) as DidDocument
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

describe('the proxy target named by atproto-proxy', () => {
  const ref = { did: 'did:web:svc.example.com', serviceId: 'svc' }

  it.each(UNSAFE_ENDPOINTS)('refuses %s in production', async (endpoint) => {
    const resolver = { resolve: async () => docWith(endpoint) }
    const err = await thrown(resolveServiceReference(ref, resolver, { devMode: false }))
    expect(err.status).toBe(400)
    expect(err.error).toBe('InvalidRequest')
  })

  it('takes a public https endpoint, and loopback http only in development', async () => {
    const target = (endpoint: string, devMode: boolean) =>
      resolveServiceReference(ref, { resolve: async () => docWith(endpoint) }, { devMode })
    expect((await target('https://svc.example.com/', false)).url).toBe('https://svc.example.com')
    expect((await target('http://localhost:2584', true)).url).toBe('http://localhost:2584')
    expect((await thrown(target('http://localhost:2584', false))).status).toBe(400)
    expect((await thrown(target('http://10.0.0.1:2584', true))).status).toBe(400)
  })
})

describe('the feed-generator lookup', () => {
  // A production deployment: the pool's secrets, a public hostname, no dev mode.
  const config = readConfig({
    ...(env as unknown as ConfigEnv),
    PDS_HOSTNAME: 'pds.example.com',
    PDS_DEV_MODE: 'false',
    PDS_PLC_URL: 'https://plc.invalid',
    // The pool's development mailbox is refused outside dev mode; no mailer here.
    PDS_MAILER: undefined,
  })
  const deps = { db: getDb(env.DB), config }
  // A creator per case: the resolver caches DID documents.
  let n = 0
  const nextCreator = () => `creator${++n}.example.com`
  const feedOf = (host: string) => `at://did:web:${host}/app.bsky.feed.generator/hot`

  it.each(UNSAFE_ENDPOINTS)(
    "refuses a creator's PDS at %s without contacting it",
    async (endpoint) => {
      const host = nextCreator()
      const calls = fakeUpstreams({
        [`https://${host}`]: () =>
          json({
            '@context': ['https://www.w3.org/ns/did/v1'],
            id: `did:web:${host}`,
            service: [
              { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: endpoint },
            ],
          }),
      })
      const err = await thrown(resolveFeedGenerator(feedOf(host), deps))
      expect(err.status).toBe(400)
      expect(err.error).toBe('UnknownFeed')
      expect(calls.map((c) => c.url.origin)).toEqual([`https://${host}`])
    },
  )

  it('follows no redirect and does not echo what the PDS answered', async () => {
    const host = nextCreator()
    const creatorDoc = {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: `did:web:${host}`,
      service: [
        {
          id: '#atproto_pds',
          type: 'AtprotoPersonalDataServer',
          serviceEndpoint: 'https://pds.creator.example.com',
        },
      ],
    }
    for (const answer of [
      () =>
        new Response(null, { status: 302, headers: { location: 'https://inside.example.com/' } }),
      () => new Response('secret internal page', { status: 503 }),
    ]) {
      const calls = fakeUpstreams({
        [`https://${host}`]: () => json(creatorDoc),
        'https://pds.creator.example.com': answer,
        'https://inside.example.com': () => json({ value: { did: 'did:web:inside.example.com' } }),
      })
      const err = await thrown(resolveFeedGenerator(feedOf(host), deps))
      expect(err.status).toBe(502)
      expect(err.message).not.toMatch(/302|503|secret|inside/)
      const toPds = calls.filter((c) => c.url.origin === 'https://pds.creator.example.com')
      expect(toPds.map((c) => c.redirect)).toEqual(['manual'])
      expect(calls.some((c) => c.url.origin === 'https://inside.example.com')).toBe(false)
      vi.restoreAllMocks()
    }
  })
})
