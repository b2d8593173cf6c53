/**
 * The proof of issue #13: malformed requests of every class, to every method we serve, get a
 * 4xx with a JSON `{error, message?}` body, never a 500 or a bare text answer; so do bad
 * credentials of every kind, proxied calls with a bad `atproto-proxy` header, and methods we do
 * not implement (501 there). Cases come from the method registry and the Lexicons, broken by a
 * seeded generator: `FUZZ_SEED` (default below) and `FUZZ_CASES` (cases per method and class)
 * change the run; a failure prints the seed and the case, and
 * `FUZZ_SEED=<seed> FUZZ_CASES=<n> npx vitest run test/worker/fuzz.test.ts -t '<nsid>'` replays it.
 */
import { env, SELF } from 'cloudflare:test'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { baseRequest, type FuzzRequest, generateCases } from './fuzz/cases.ts'
import { KNOWN_FAILURES, type ProbeKind } from './fuzz/known-failures.ts'
import { type AuthKind, registeredMethods } from './fuzz/methods.ts'
import { createPrng, deriveSeed, type Prng } from './fuzz/prng.ts'
import {
  BASE,
  CLIENT_ERROR,
  describeFailure,
  type Failure,
  matchesKnown,
  problemWith,
  send,
} from './fuzz/run.ts'
import { expectWrongSessionKind } from './helpers/auth.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const DEFAULT_SEED = 13_2026
const DEFAULT_CASES = 6
const SEED = Number(inject('fuzzSeed') || DEFAULT_SEED)
const CASES = Number(inject('fuzzCases') || DEFAULT_CASES)

/** Methods the PDS declares unimplemented (501 `MethodNotImplemented` is their right answer). */
const UNIMPLEMENTED = ['com.atproto.identity.refreshIdentity', 'com.atproto.sync.requestCrawl']

/**
 * Methods that change the caller's account when a case slips through (deactivation, sessions,
 * handle, app passwords): each gets an account of its own, so the rest are not affected.
 */
const OWN_ACCOUNT = new Set([
  'com.atproto.server.activateAccount',
  'com.atproto.server.deactivateAccount',
  'com.atproto.server.deleteAccount',
  'com.atproto.server.deleteSession',
  'com.atproto.server.refreshSession',
  'com.atproto.server.requestAccountDelete',
  'com.atproto.server.createAppPassword',
  'com.atproto.server.revokeAppPassword',
  'com.atproto.identity.updateHandle',
  'com.atproto.identity.requestPlcOperationSignature',
  'com.atproto.identity.signPlcOperation',
  'com.atproto.identity.submitPlcOperation',
])

const ADMIN_PASSWORD = (env as unknown as { PDS_ADMIN_PASSWORD: string }).PDS_ADMIN_PASSWORD
/** Answers slower than this are reported (not failed: the machine may be busy). */
const SLOW_MS = 2000
const methods = registeredMethods()
const failures: Failure[] = []
/** Every probe sent, to tell a fixed known failure from one this run did not try. */
const probes: Probe[] = []
let main: TestAccount

function prngFor(label: string): Prng {
  return createPrng(deriveSeed(SEED, label))
}

function credential(kind: AuthKind, account: TestAccount): string {
  if (kind === 'admin') return `Basic ${btoa(`admin:${ADMIN_PASSWORD}`)}`
  return `Bearer ${kind === 'refresh' ? account.refreshJwt : account.accessJwt}`
}

interface Probe {
  nsid: string
  kind: ProbeKind
  label: string
  request: FuzzRequest
}

async function run(
  probe: Probe,
  auth: string,
  authorization: string | null,
  accept: (status: number) => boolean = CLIENT_ERROR,
): Promise<Failure | null> {
  probes.push(probe)
  let problem: string | null
  let outcome = null
  try {
    outcome = await send(probe.nsid, probe.request, authorization)
    // An identifier that names nothing may be a success (deleting what is not there): only
    // an error has to be a proper one.
    const success = probe.kind === 'unknown-identifier' && outcome.status < 400
    problem = success ? null : problemWith(outcome, accept)
    if (outcome.ms > SLOW_MS) {
      console.warn(
        `fuzz: slow answer (${outcome.ms} ms): ${probe.nsid} [${probe.kind}] ${probe.label}`,
      )
    }
  } catch (err) {
    problem = `the request failed: ${err instanceof Error ? err.message : err}`
  }
  if (problem === null) return null
  const failure: Failure = { ...probe, auth, problem, outcome }
  failures.push(failure)
  return failure
}

/** Fails with every failure no KNOWN_FAILURES entry covers, and how to replay them. */
function expectOnlyKnown(found: Array<Failure | null>, name: string): void {
  const unknown = found.filter(
    (failure): failure is Failure =>
      failure !== null && !KNOWN_FAILURES.some((known) => matchesKnown(failure, known)),
  )
  if (unknown.length === 0) return
  const replay = `FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} npx vitest run test/worker/fuzz.test.ts -t '${name}'`
  expect.fail(
    `${unknown.length} fuzz case(s) not refused properly (seed ${SEED}; replay: ${replay}):\n` +
      unknown.map(describeFailure).join('\n'),
  )
}

beforeAll(async () => {
  main = await createTestAccount('fuzz')
  console.info(`fuzz: seed ${SEED}, ${CASES} cases per method and class (FUZZ_SEED, FUZZ_CASES)`)
})

afterAll(() => {
  const known = failures.filter((failure) => KNOWN_FAILURES.some((k) => matchesKnown(failure, k)))
  console.info(
    `fuzz: ${probes.length} requests, ${known.length} known failure(s) (KNOWN_FAILURES):\n` +
      known.map((failure) => describeFailure(failure).split('\n')[0]).join('\n'),
  )
})

describe('malformed requests to every method we serve get a 4xx JSON error', () => {
  for (const method of methods) {
    it(method.nsid, { timeout: 120_000 }, async () => {
      const account = OWN_ACCOUNT.has(method.nsid) ? await createTestAccount('fuzzown') : main
      const cases = generateCases(method, account, prngFor(method.nsid), CASES)
      const found: Array<Failure | null> = []
      for (const fuzzCase of cases) {
        found.push(await run(fuzzCase, 'none', null))
        found.push(await run(fuzzCase, 'session', credential(method.auth, account)))
      }
      expectOnlyKnown(found, method.nsid)
    })
  }
})

describe('bad credentials get 400/401/403 JSON on every method that needs auth', () => {
  let appPassword: TestAccount
  let holder: TestAccount

  beforeAll(async () => {
    holder = await createTestAccount('fuzzauth')
    const created = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'fuzz' },
      holder.accessJwt,
    )
    const session = await xrpcPost<TestAccount>('com.atproto.server.createSession', {
      identifier: holder.handle,
      password: created.body.password,
    })
    expect(session.status).toBe(200)
    appPassword = { ...holder, ...session.body }
  })

  // 429 too: wrong admin passwords are limited per address, and this matrix sends many.
  const refused = (status: number) => [400, 401, 403, 429].includes(status)

  for (const method of methods.filter((m) => m.auth !== 'none')) {
    it(method.nsid, async () => {
      const request = baseRequest(method, holder)
      const prng = prngFor(`auth ${method.nsid}`)
      const junk = (length: number) => base64url(prng.ascii(length))
      const attempts: Array<[string, string | null]> = [
        ['no credentials', null],
        ['empty bearer', 'Bearer '],
        ['random bearer', `Bearer ${junk(40)}`],
        ['three-part junk', `Bearer ${junk(20)}.${junk(30)}.${junk(10)}`],
        ['alg none', `Bearer ${unsignedJwt(holder.did)}`],
        ['tampered signature', `Bearer ${holder.accessJwt.slice(0, -4)}AAAA`],
        ['8KB bearer', `Bearer ${'a'.repeat(8192)}`],
        ['unknown scheme', `Token ${holder.accessJwt}`],
        ['admin, wrong password', `Basic ${btoa('admin:not-the-password')}`],
        ['basic junk', `Basic ${junk(12)}`],
      ]
      if (method.auth === 'refresh') {
        attempts.push(['access token for refresh', `Bearer ${holder.accessJwt}`])
      } else if (method.auth === 'admin') {
        attempts.push(['session for admin', `Bearer ${holder.accessJwt}`])
        attempts.push(['app password session', `Bearer ${appPassword.accessJwt}`])
      } else {
        attempts.push(['refresh token for access', `Bearer ${holder.refreshJwt}`])
      }
      if (method.auth === 'full' || method.auth === 'privileged') {
        attempts.push(['app password session', `Bearer ${appPassword.accessJwt}`])
      }
      const found: Array<Failure | null> = []
      for (const [label, authorization] of attempts) {
        const probe: Probe = { nsid: method.nsid, kind: 'auth', label, request }
        found.push(await run(probe, label, authorization, refused))
      }
      if (method.auth === 'full') {
        // What the Bluesky app matches to ask for the main password.
        const res = await send(method.nsid, request, `Bearer ${appPassword.accessJwt}`)
        expectWrongSessionKind({ status: res.status, body: JSON.parse(res.text) })
      }
      expectOnlyKnown(found, method.nsid)
    })
  }
})

describe('proxied calls with a bad atproto-proxy header get a 4xx JSON error', () => {
  const PROXIED: Array<[nsid: string, verb: string]> = [
    ['app.bsky.feed.getTimeline', 'GET'],
    ['app.bsky.actor.getProfile', 'GET'],
    ['app.bsky.notification.updateSeen', 'POST'],
    ['app.bsky.fuzz.notALexiconMethod', 'GET'],
    ['app.bsky.fuzz.notALexiconProcedure', 'POST'],
  ]
  // did:web would be resolved over the network; did:plc goes to the local PLC directory.
  const headers = (did: string): Array<[string, string]> => [
    ['empty', ''],
    ['no fragment', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'],
    ['empty fragment', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz#'],
    ['no did', '#bsky_appview'],
    ['not a did', 'bsky_appview#bsky_appview'],
    ['two fragments', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz#a#b'],
    ['unsupported method', 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme#x'],
    ['unknown did:plc', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#bsky_appview'],
    ['account without that service', `${did}#bsky_appview`],
    ['8KB', `did:plc:${'a'.repeat(8192)}#x`],
    ['control characters', 'did:plc:abc\t#x y'],
  ]

  for (const [nsid, verb] of PROXIED) {
    it(nsid, async () => {
      const found: Array<Failure | null> = []
      const bodies: Array<[string, string | undefined, string | undefined]> =
        verb === 'GET'
          ? [['', undefined, undefined]]
          : [
              [' JSON', '{"seenAt":"2024-01-01T00:00:00.000Z"}', 'application/json'],
              [' 5MB', JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }), 'application/json'],
              [' garbage', '\u0000{{{', 'application/json'],
              [' no content-type', '{}', undefined],
            ]
      for (const [headerLabel, value] of headers(main.did)) {
        for (const [bodyLabel, body, contentType] of bodies) {
          const request: FuzzRequest = {
            verb,
            query: [],
            headers: {
              'atproto-proxy': value,
              ...(contentType ? { 'content-type': contentType } : {}),
            },
            ...(body === undefined ? {} : { body }),
          }
          const probe: Probe = { nsid, kind: 'proxy', label: `${headerLabel}${bodyLabel}`, request }
          found.push(await run(probe, 'none', null))
          found.push(await run(probe, 'session', `Bearer ${main.accessJwt}`))
        }
      }
      expectOnlyKnown(found, nsid)
    })
  }
})

describe('methods we declare unimplemented answer 501 (or 4xx) JSON, whatever they are sent', () => {
  for (const nsid of UNIMPLEMENTED) {
    it(nsid, async () => {
      expect(methods.some((method) => method.nsid === nsid)).toBe(false)
      const prng = prngFor(nsid)
      const requests: Array<[string, FuzzRequest]> = [
        ['GET', { verb: 'GET', query: [], headers: {} }],
        [
          'garbage CAR',
          {
            verb: 'POST',
            query: [],
            headers: { 'content-type': 'application/vnd.ipld.car' },
            body: prng.bytes(256),
          },
        ],
        [
          'garbage CBOR',
          {
            verb: 'POST',
            query: [],
            headers: { 'content-type': 'application/cbor' },
            body: prng.bytes(64),
          },
        ],
        [
          'garbage JSON',
          {
            verb: 'POST',
            query: [],
            headers: { 'content-type': 'application/json' },
            body: '{"a":',
          },
        ],
        [
          '5MB',
          {
            verb: 'POST',
            query: [],
            headers: { 'content-type': 'application/json' },
            body: 'x'.repeat(5 * 1024 * 1024),
          },
        ],
      ]
      const found: Array<Failure | null> = []
      const accept = (status: number) => CLIENT_ERROR(status) || status === 501
      for (const [label, request] of requests) {
        const probe: Probe = { nsid, kind: 'unimplemented', label, request }
        found.push(await run(probe, 'none', null, accept))
        found.push(await run(probe, 'session', `Bearer ${main.accessJwt}`, accept))
      }
      expectOnlyKnown(found, nsid)
    })
  }
})

describe('subscribeRepos refuses bad HTTP requests with a 4xx JSON error', () => {
  const nsid = 'com.atproto.sync.subscribeRepos'
  it(nsid, async () => {
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade' }
    const requests: Array<[string, FuzzRequest]> = [
      [
        'POST',
        { verb: 'POST', query: [], headers: { 'content-type': 'application/json' }, body: '{}' },
      ],
      ['PUT', { verb: 'PUT', query: [], headers: {} }],
      ['no upgrade', { verb: 'GET', query: [], headers: {} }],
      ['no upgrade, cursor', { verb: 'GET', query: [['cursor', '1']], headers: {} }],
      ...['abc', '-1', '1.5', '', '99999999999999999999', '1e3', ' 1'].map(
        (cursor): [string, FuzzRequest] => [
          `cursor=${JSON.stringify(cursor)}`,
          { verb: 'GET', query: [['cursor', cursor]], headers: upgrade },
        ],
      ),
      [
        'cursor 20KB',
        { verb: 'GET', query: [['cursor', '1'.repeat(20 * 1024)]], headers: upgrade },
      ],
    ]
    const found: Array<Failure | null> = []
    for (const [label, request] of requests) {
      found.push(await run({ nsid, kind: 'subscription', label, request }, 'none', null))
    }
    expectOnlyKnown(found, nsid)
  })
})

describe('getBlob answers any Range header with the blob, a part of it, or a 4xx JSON error', () => {
  const nsid = 'com.atproto.sync.getBlob'
  it(nsid, async () => {
    const prng = prngFor('getBlob ranges')
    const uploaded = await SELF.fetch(`${BASE}/xrpc/com.atproto.repo.uploadBlob`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${main.accessJwt}`,
        'content-type': 'application/octet-stream',
      },
      body: prng.bytes(1000),
    })
    const { blob } = (await uploaded.json()) as { blob: { ref: { $link: string } } }
    const held = await xrpcPost(
      'com.atproto.repo.createRecord',
      {
        repo: main.did,
        collection: 'com.example.fuzz.file',
        validate: false,
        record: { $type: 'com.example.fuzz.file', blob },
      },
      main.accessJwt,
    )
    expect(held.status).toBe(200)
    const ranges = [
      'bytes=1000-',
      'bytes=-0',
      'bytes=5-1',
      'bytes=abc',
      'bytes=',
      'bytes=-',
      'items=0-1',
      'bytes=0-1,2-3',
      'bytes=99999999999999999999-',
      'bytes=0-99999999999999999999',
      'bytes=-99999999999999999999',
      'bytes= 0-1',
      'bytes=0-0',
      'bytes=999-999',
      '',
      `bytes=${prng.int(2000)}-${prng.int(2000)}`,
      `bytes=-${prng.int(2000)}`,
    ]
    const found: Array<Failure | null> = []
    const served = (status: number) => status === 200 || status === 206 || CLIENT_ERROR(status)
    for (const range of ranges) {
      for (const ifRange of [null, `"${blob.ref.$link}"`, '"not-the-etag"']) {
        const request: FuzzRequest = {
          verb: 'GET',
          query: [
            ['did', main.did],
            ['cid', blob.ref.$link],
          ],
          headers: { range, ...(ifRange ? { 'if-range': ifRange } : {}) },
        }
        const label = `range ${JSON.stringify(range)}${ifRange ? ` if-range ${ifRange}` : ''}`
        const probe: Probe = { nsid, kind: 'range', label, request }
        found.push(await run(probe, 'none', null, served))
      }
    }
    expectOnlyKnown(found, nsid)
  })
})

describe('random records (validate: false) are stored and read back, or refused with a 4xx', () => {
  it('createRecord, then getRecord, listRecords, sync.getRecord and getRepo', {
    timeout: 120_000,
  }, async () => {
    const account = await createTestAccount('fuzzrec')
    const prng = prngFor('random records')
    const collection = 'com.example.fuzz.random'
    const found: Array<Failure | null> = []
    const stored: Array<{ rkey: string; value: unknown }> = []
    for (let i = 0; i < CASES * 5; i++) {
      const record = { $type: collection, ...(randomJson(prng, 4) as object) }
      const request: FuzzRequest = {
        verb: 'POST',
        query: [],
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ repo: account.did, collection, validate: false, record }),
      }
      const res = await send(
        'com.atproto.repo.createRecord',
        request,
        `Bearer ${account.accessJwt}`,
      )
      const probe: Probe = {
        nsid: 'com.atproto.repo.createRecord',
        kind: 'random-record',
        label: `#${i}`,
        request,
      }
      if (res.status === 200) {
        stored.push({
          rkey: (JSON.parse(res.text) as { uri: string }).uri.split('/').pop()!,
          value: record,
        })
      } else {
        found.push(await run(probe, 'session', `Bearer ${account.accessJwt}`))
      }
    }
    const ok = (status: number) => status === 200
    const read = (nsid: string, query: Array<[string, string]>, label: string) =>
      run(
        { nsid, kind: 'random-record', label, request: { verb: 'GET', query, headers: {} } },
        'none',
        null,
        ok,
      )
    for (const { rkey } of stored) {
      const where: Array<[string, string]> = [
        ['collection', collection],
        ['rkey', rkey],
      ]
      found.push(await read('com.atproto.repo.getRecord', [['repo', account.did], ...where], rkey))
      found.push(await read('com.atproto.sync.getRecord', [['did', account.did], ...where], rkey))
    }
    found.push(
      await read(
        'com.atproto.repo.listRecords',
        [
          ['repo', account.did],
          ['collection', collection],
          ['limit', '100'],
        ],
        'list',
      ),
    )
    found.push(await read('com.atproto.sync.getRepo', [['did', account.did]], 'repo'))
    found.push(await read('com.atproto.repo.describeRepo', [['repo', account.did]], 'describe'))
    expectOnlyKnown(found, 'random records')
    expect(stored.length).toBeGreaterThan(0)
  })

  it('a record key named __proto__ or constructor is refused, or kept as sent', async () => {
    const account = await createTestAccount('fuzzproto')
    const collection = 'com.example.fuzz.proto'
    const found: Array<Failure | null> = []
    for (const [key, value] of [
      ['__proto__', 'null'],
      ['__proto__', '{"x":1}'],
      ['__proto__', '[1]'],
      ['constructor', '{"prototype":{"x":1}}'],
    ] as const) {
      const label = `${key}: ${value}`
      const body = `{"repo":"${account.did}","collection":"${collection}","validate":false,"record":{"$type":"${collection}","${key}":${value}}}`
      const request: FuzzRequest = {
        verb: 'POST',
        query: [],
        headers: { 'content-type': 'application/json' },
        body,
      }
      const probe: Probe = {
        nsid: 'com.atproto.repo.createRecord',
        kind: 'proto-key',
        label,
        request,
      }
      const created = await send(probe.nsid, request, `Bearer ${account.accessJwt}`)
      probes.push(probe)
      if (created.status !== 200) {
        found.push(await run(probe, 'session', `Bearer ${account.accessJwt}`))
        continue
      }
      const rkey = (JSON.parse(created.text) as { uri: string }).uri.split('/').pop()!
      const query: Array<[string, string]> = [
        ['repo', account.did],
        ['collection', collection],
        ['rkey', rkey],
      ]
      const got = await send(
        'com.atproto.repo.getRecord',
        { verb: 'GET', query, headers: {} },
        null,
      )
      // JSON.parse makes an own property of "__proto__", so what was kept can be compared.
      const record = (JSON.parse(got.text) as { value?: Record<string, unknown> }).value ?? {}
      const kept = Object.hasOwn(record, key) && JSON.stringify(record[key]) === value
      if (!kept) {
        const failure: Failure = {
          ...probe,
          auth: 'session',
          problem: `stored without ${key} as sent: ${got.text}`,
          outcome: created,
        }
        failures.push(failure)
        found.push(failure)
      }
    }
    expectOnlyKnown(found, '__proto__')
  })
})

describe('malformed paths get a 4xx JSON error', () => {
  it('paths under /xrpc and around it', async () => {
    const paths = [
      '/xrpc/',
      '/xrpc/%',
      '/xrpc/%E0%A4%A',
      '/xrpc/%ZZ',
      '/xrpc/com.atproto.server.describeServer%00',
      '/xrpc/com.atproto.server.describeServer%2F..%2F',
      '/xrpc/com.atproto.server.describeServer/extra',
      '/xrpc//com.atproto.server.describeServer',
      '/xrpc/..%2F..%2Fetc',
      '/xrpc/app.bsky.feed.getTimeline%0D%0Ax-injected:1',
      `/xrpc/${'a.'.repeat(200)}b`,
      '/xrpc/com.atproto.sync.subscribeRepos/x',
      '/%',
      '/nothing-here',
      '/.well-known/%',
      '/.well-known/atproto-did/x',
    ]
    const found: Array<Failure | null> = []
    for (const path of paths) {
      for (const verb of ['GET', 'POST']) {
        const request: FuzzRequest = { verb, query: [], headers: {}, path }
        found.push(await run({ nsid: path, kind: 'path', label: verb, request }, 'none', null))
      }
    }
    expectOnlyKnown(found, 'paths')
  })
})

describe('after the fuzzing', () => {
  it('the server still answers: _health, and a normal createRecord', async () => {
    const health = await xrpcGet('_health')
    expect(health.status).toBe(200)
    const post = (account: TestAccount, text: string) =>
      xrpcPost<{ uri: string }>(
        'com.atproto.repo.createRecord',
        {
          repo: account.did,
          collection: 'app.bsky.feed.post',
          record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
        },
        account.accessJwt,
      )
    const created = await post(await createTestAccount('fuzzafter'), 'still here')
    expect(created.status).toBe(200)
    expect(created.body.uri).toMatch(/^at:\/\/did:plc:/)
    // The account the fuzzing used most can still write too.
    expect((await post(main, 'me too')).status).toBe(200)
  })

  it('every KNOWN_FAILURES entry this run tried still fails (remove those that do not)', () => {
    const fixed = KNOWN_FAILURES.filter(
      (known) =>
        probes.some((probe) => matchesKnown(probe, known)) &&
        !failures.some((failure) => matchesKnown(failure, known)),
    )
    expect(fixed, 'these known failures no longer happen: remove them').toEqual([])
  })
})

const ODD_KEYS = [
  '',
  ' ',
  '$type',
  '$link',
  '$bytes',
  'a.b',
  '__proto__',
  'constructor',
  'é',
  '\u0000',
  'k'.repeat(300),
]

/** A JSON value of the data model's kinds and shapes, some of them odd. */
function randomJson(prng: Prng, depth: number): unknown {
  const kind = prng.int(depth > 0 ? 10 : 6)
  switch (kind) {
    case 0:
      return null
    case 1:
      return prng.next() < 0.5
    case 2:
      return prng.pick([0, -1, 1, 2 ** 53 - 1, -(2 ** 53) + 1, 255, 256, 65536])
    case 3:
      return prng.pick([
        '',
        'x',
        prng.ascii(prng.int(40)),
        '\u0000',
        '😀'.repeat(3),
        'é\u0301',
        'x'.repeat(3000),
      ])
    case 4:
      return { $link: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }
    case 5:
      return { $bytes: prng.pick(['', 'AA', 'AAAA', 'aGVsbG8']) }
    case 6:
    case 7:
      return Array.from({ length: prng.int(5) }, () => randomJson(prng, depth - 1))
    default: {
      const out: Record<string, unknown> = {}
      for (let i = prng.int(5); i > 0; i--) {
        const key = prng.next() < 0.3 ? prng.pick(ODD_KEYS) : prng.ascii(1 + prng.int(8))
        if (key === '$type' || key === '__proto__') continue
        out[key] = randomJson(prng, depth - 1)
      }
      return out
    }
  }
}

function base64url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** A JWT that claims to be an access token of `did` but is not signed at all. */
function unsignedJwt(did: string): string {
  const header = base64url(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))
  const now = Math.floor(Date.now() / 1000)
  const payload = base64url(
    JSON.stringify({ scope: 'com.atproto.access', sub: did, iat: now, exp: now + 3600 }),
  )
  return `${header}.${payload}.`
}
