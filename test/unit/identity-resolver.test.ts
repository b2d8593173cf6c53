/**
 * Handle and DID resolution against local HTTP servers: a well-known server that routes by
 * Host header (reached through an injected fetch, since Node's fetch cannot set Host), a
 * DNS-over-HTTPS stub speaking dns-json, and did:web documents on localhost.
 */
import { createServer, request, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DidResolutionError,
  DidResolver,
  didFromTxtAnswers,
  type FetchFn,
  HandleResolver,
  txtRecordText,
} from '../../src/identity/index.ts'

const ALICE = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const BOB = 'did:plc:44ybard66vv44zksje25o7dz'

/** Host → well-known response; `null` means never answer. */
const wellKnown = new Map<string, { status: number; body: string } | null>([
  ['alice.test', { status: 200, body: `  ${ALICE}\n` }],
  ['bob.test', { status: 200, body: BOB }],
  ['notadid.test', { status: 200, body: 'hello world' }],
  ['missing.test', { status: 404, body: 'not found' }],
  ['huge.test', { status: 200, body: `${ALICE}${' '.repeat(10_000)}` }],
  ['slow.test', null],
])

/** DNS name → TXT data strings as a DoH server returns them. */
const txtRecords = new Map<string, string[]>([
  ['_atproto.bob.test', [`"did=${BOB}"`]],
  ['_atproto.dns-only.test', [`"did=${ALICE}"`, '"v=spf1 -all"']],
  ['_atproto.split.test', [`"did=did:plc:ewvi7nxzy" "oun6zhxrhs64oiz"`]],
  ['_atproto.conflict.test', [`"did=${ALICE}"`, `"did=${BOB}"`]],
  ['_atproto.same-twice.test', [`"did=${ALICE}"`, `"did=${ALICE}"`]],
  ['_atproto.bad.test', ['"did=not-a-did"']],
])

let webServer: Server
let dohServer: Server
let dohUrl: string
const dohQueries: string[] = []

beforeAll(async () => {
  webServer = createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]!
    const answer = wellKnown.get(host)
    if (answer === null) return // hang
    if (req.url !== '/.well-known/atproto-did' || !answer) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body)
  })
  dohServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const name = url.searchParams.get('name') ?? ''
    dohQueries.push(`${name} ${url.searchParams.get('type')} ${req.headers.accept}`)
    if (name === '_atproto.dns-down.test') {
      res.writeHead(503).end()
      return
    }
    const records = txtRecords.get(name)
    const body = records
      ? {
          Status: 0,
          Answer: records.map((data) => ({ name, type: 16, TTL: 300, data })),
        }
      : { Status: 3, Authority: [] }
    res.writeHead(200, { 'content-type': 'application/dns-json' }).end(JSON.stringify(body))
  })
  await Promise.all([listen(webServer), listen(dohServer)])
  dohUrl = `http://127.0.0.1:${port(dohServer)}/dns-query`
})

afterAll(async () => {
  webServer.closeAllConnections()
  dohServer.closeAllConnections()
  await Promise.all([close(webServer), close(dohServer)])
})

/** Local requests go out as they are; `https://<host>/...` goes to the web server with that Host. */
const stubNetwork: FetchFn = async (input, init) => {
  const url = new URL(input)
  if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return fetch(input, init)
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: port(webServer),
        path: url.pathname + url.search,
        method: init?.method ?? 'GET',
        headers: { host: url.host },
        signal: init?.signal ?? undefined,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const headers = new Headers()
          for (const [key, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(key, value)
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }))
        })
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function resolver(timeoutMs = 2_000): HandleResolver {
  return new HandleResolver({ fetch: stubNetwork, dohUrl, timeoutMs })
}

describe('HandleResolver over HTTPS well-known', () => {
  it('reads and trims the DID', async () => {
    expect(await resolver().resolveHttp('alice.test')).toBe(ALICE)
    expect(await resolver().resolve('ALICE.test')).toBe(ALICE)
  })

  it('fails on a 404, a body that is not a DID, or an oversized body', async () => {
    expect(await resolver().resolveHttp('missing.test')).toBeNull()
    expect(await resolver().resolveHttp('notadid.test')).toBeNull()
    expect(await resolver().resolveHttp('huge.test')).toBeNull()
    expect(await resolver().resolve('nowhere.test')).toBeNull()
  })

  it('gives up on a host that does not answer', async () => {
    const started = Date.now()
    expect(await resolver(200).resolve('slow.test')).toBeNull()
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})

describe('HandleResolver over DNS-over-HTTPS', () => {
  it('asks for the _atproto TXT record in dns-json', async () => {
    dohQueries.length = 0
    expect(await resolver().resolveDns('bob.test')).toBe(BOB)
    expect(dohQueries).toEqual(['_atproto.bob.test TXT application/dns-json'])
  })

  it('ignores other TXT records and joins split strings', async () => {
    expect(await resolver().resolve('dns-only.test')).toBe(ALICE)
    expect(await resolver().resolveDns('split.test')).toBe(ALICE)
    expect(await resolver().resolveDns('same-twice.test')).toBe(ALICE)
  })

  it('fails on differing did= records, invalid DIDs and NXDOMAIN', async () => {
    expect(await resolver().resolveDns('conflict.test')).toBeNull()
    expect(await resolver().resolveDns('bad.test')).toBeNull()
    expect(await resolver().resolveDns('alice.test')).toBeNull()
    expect(await resolver().resolve('conflict.test')).toBeNull()
  })

  it('falls back to HTTPS when DNS gives nothing or fails', async () => {
    expect(await resolver().resolve('alice.test')).toBe(ALICE)
    wellKnown.set('dns-down.test', { status: 200, body: BOB })
    expect(await resolver().resolve('dns-down.test')).toBe(BOB)
  })

  it('prefers DNS when both answer', async () => {
    txtRecords.set('_atproto.alice.test', [`"did=${BOB}"`])
    try {
      expect(await resolver().resolve('alice.test')).toBe(BOB)
    } finally {
      txtRecords.delete('_atproto.alice.test')
    }
  })

  it('refuses invalid handles and reserved TLDs without any request', async () => {
    let calls = 0
    const counting = new HandleResolver({
      fetch: async (input, init) => {
        calls++
        return stubNetwork(input, init)
      },
      dohUrl,
    })
    expect(await counting.resolve('not a handle')).toBeNull()
    expect(await counting.resolve('alice.local')).toBeNull()
    expect(await counting.resolve('alice.invalid')).toBeNull()
    expect(calls).toBe(0)
  })
})

describe('TXT data parsing', () => {
  it('handles quoted, split, escaped and bare forms', () => {
    expect(txtRecordText('"did=did:plc:abc"')).toBe('did=did:plc:abc')
    expect(txtRecordText('"did=did:plc:" "abc"')).toBe('did=did:plc:abc')
    expect(txtRecordText('"a\\"b\\059c"')).toBe('a"b;c')
    expect(txtRecordText('did=did:plc:abc')).toBe('did=did:plc:abc')
    expect(didFromTxtAnswers({ Status: 0, Answer: [{ type: 5, data: `"did=${ALICE}"` }] })).toBe(
      null,
    )
    expect(didFromTxtAnswers({ Status: 2 })).toBeNull()
    expect(didFromTxtAnswers('nope')).toBeNull()
  })
})

describe('DidResolver for did:web', () => {
  let didServer: Server
  let didPort: number
  let requests = 0
  const didDocBody = (id: string) => ({
    '@context': ['https://www.w3.org/ns/did/v1'],
    id,
    alsoKnownAs: ['at://web.example.com'],
    service: [
      {
        id: '#atproto_pds',
        type: 'AtprotoPersonalDataServer',
        serviceEndpoint: 'https://pds.example.com',
      },
    ],
  })

  beforeAll(async () => {
    didServer = createServer((req, res) => {
      requests++
      if (req.url !== '/.well-known/did.json') {
        res.writeHead(404).end()
        return
      }
      const id = `did:web:localhost%3A${port(didServer)}`
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(didDocBody(id)))
    })
    await listen(didServer)
    didPort = port(didServer)
  })

  afterAll(async () => {
    didServer.closeAllConnections()
    await close(didServer)
  })

  it('resolves localhost with a port over http in dev mode, and caches with a TTL', async () => {
    let now = 1_000_000
    const did = `did:web:localhost%3A${didPort}`
    const dids = new DidResolver({
      plcUrl: 'http://127.0.0.1:1',
      devMode: true,
      cacheTtlMs: 60_000,
      now: () => now,
    })
    requests = 0
    const parsed = await dids.resolveAtprotoData(did)
    expect(parsed).toMatchObject({
      did,
      handle: 'web.example.com',
      pdsEndpoint: 'https://pds.example.com',
      signingKey: null,
    })
    await dids.resolve(did)
    expect(requests).toBe(1)
    now += 59_000
    await dids.resolve(did)
    expect(requests).toBe(1)
    now += 2_000
    await dids.resolve(did)
    expect(requests).toBe(2)
    await dids.resolve(did, { forceRefresh: true })
    expect(requests).toBe(3)
    dids.clearCache(did)
    await dids.resolve(did)
    expect(requests).toBe(4)
  })

  it('refuses localhost, ports and paths outside dev mode', async () => {
    const strict = new DidResolver({ plcUrl: 'http://127.0.0.1:1' })
    await expect(strict.resolve(`did:web:localhost%3A${didPort}`)).rejects.toThrow(
      DidResolutionError,
    )
    await expect(strict.resolve('did:web:127.0.0.1')).rejects.toThrow(DidResolutionError)
    await expect(strict.resolve('did:web:example.com%3A8080')).rejects.toThrow(/port/)
    await expect(strict.resolve('did:web:example.com:user:alice')).rejects.toThrow(/path/)
    await expect(strict.resolve('did:example:123')).rejects.toThrow(/unsupported DID method/)
    await expect(strict.resolve('not-a-did')).rejects.toThrow(DidResolutionError)
    const dev = new DidResolver({ plcUrl: 'http://127.0.0.1:1', devMode: true })
    await expect(dev.resolve('did:web:example.com%3A8080')).rejects.toThrow(/port/)
  })

  it('fetches https://<host>/.well-known/did.json and checks the id', async () => {
    const urls: string[] = []
    const dids = new DidResolver({
      plcUrl: 'https://plc.example.com',
      fetch: async (url) => {
        urls.push(url)
        if (url.startsWith('https://gone.example.com')) return new Response('', { status: 404 })
        const id = url.startsWith('https://liar.example.com')
          ? 'did:web:other.example.com'
          : 'did:web:web.example.com'
        return Response.json(didDocBody(id))
      },
    })
    expect((await dids.resolve('did:web:web.example.com'))?.id).toBe('did:web:web.example.com')
    expect(await dids.resolve('did:web:gone.example.com')).toBeNull()
    await expect(dids.resolve('did:web:liar.example.com')).rejects.toThrow(/different id/)
    expect(urls).toEqual([
      'https://web.example.com/.well-known/did.json',
      'https://gone.example.com/.well-known/did.json',
      'https://liar.example.com/.well-known/did.json',
    ])
  })

  it('reports network failures and bad documents as DidResolutionError', async () => {
    const failing = new DidResolver({
      plcUrl: 'https://plc.example.com',
      fetch: async (url) => {
        if (url.includes('plc.example.com')) throw new TypeError('fetch failed')
        if (url.includes('broken')) return new Response('{not json', { status: 200 })
        return new Response('oops', { status: 500 })
      },
    })
    await expect(failing.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toThrow(
      DidResolutionError,
    )
    await expect(failing.resolve('did:web:broken.example.com')).rejects.toThrow(/bad DID document/)
    await expect(failing.resolve('did:web:error.example.com')).rejects.toThrow(/500/)
  })

  it('evicts the oldest entries beyond the cache size', async () => {
    let fetches = 0
    const dids = new DidResolver({
      plcUrl: 'https://plc.example.com',
      cacheMaxEntries: 2,
      fetch: async (url) => {
        fetches++
        const host = new URL(url).hostname
        return Response.json(didDocBody(`did:web:${host}`))
      },
    })
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com', 'b.example.com']) {
      await dids.resolve(`did:web:${host}`)
    }
    expect(fetches).toBe(3)
    await dids.resolve('did:web:a.example.com')
    expect(fetches).toBe(4)
  })
})

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

function port(server: Server): number {
  return (server.address() as { port: number }).port
}
