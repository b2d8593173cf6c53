/**
 * Method policy (src/xrpc/method.ts): every registered method declares its auth, permission
 * and rate limits; the dispatcher computes the permissions of each call, authorizes them and
 * hands them to the handler, and applies the declared rate limits (keyed on the IP, the
 * account or the validated call; every call or failures only; with a cost) against D1.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { optionalAccess } from '../../src/api/auth-verifiers.ts'
import { buildRegistry } from '../../src/api/index.ts'
import { proxiedMethod } from '../../src/api/proxy-fallback.ts'
import { getConfig, readConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import { d1RateLimitStore } from '../../src/rate-limit.ts'
import { type Authorize, createRegistry, dispatchXrpc } from '../../src/xrpc/dispatch.ts'
import { AuthRequiredError, ForbiddenError, toErrorResponse } from '../../src/xrpc/errors.ts'
import { getXrpcSchemas } from '../../src/xrpc/lexicon-schemas.ts'
import {
  type AnyXrpcMethod,
  defineMethod,
  type MethodCall,
  publicAccess,
  type RawInput,
} from '../../src/xrpc/method.ts'
import {
  formatPermission,
  noPermission,
  type Permission,
  repoPermission,
} from '../../src/xrpc/permission.ts'
import { noRateLimits, type RateLimitRule } from '../../src/xrpc/rate-limits.ts'

const POLICY = ['auth', 'permission', 'rateLimits', 'handler'] as const

/** What is wrong with a method's declared policy, checked at runtime (casts get past tsc). */
function policyProblems(method: AnyXrpcMethod): string[] {
  const problems: string[] = []
  for (const field of POLICY) {
    if (method[field] === undefined || method[field] === null) problems.push(`no ${field}`)
  }
  if (method.auth !== undefined && typeof method.auth !== 'function') {
    problems.push('auth is not a verifier')
  }
  const permission = method.permission as unknown
  if (permission != null && typeof permission !== 'function' && !Array.isArray(permission)) {
    problems.push('permission is neither a list nor a function')
  }
  const rules = method.rateLimits as unknown
  if (rules != null && !Array.isArray(rules)) problems.push('rateLimits is not a list')
  for (const rule of Array.isArray(rules) ? (rules as RateLimitRule<MethodCall>[]) : []) {
    // Limits read from the config are computed as the dispatcher would.
    const limit =
      typeof rule.limit === 'function' ? rule.limit(sampleCall(method.nsid)) : rule.limit
    if (!limit?.name || !(limit.windowSeconds > 0) || !(limit.max > 0)) {
      problems.push(`rate limit ${limit?.name ?? '?'} lacks a name, window or max`)
    }
    if (rule.key !== 'ip' && rule.key !== 'account' && typeof rule.key !== 'function') {
      problems.push(`rate limit ${limit?.name ?? '?'} has no key`)
    }
    if (rule.countedBy === 'account-object' && (rule.key !== 'account' || rule.counts)) {
      problems.push(`rate limit ${limit?.name} is counted by the account object but not per call`)
    }
    if (rule.key === 'account' && method.auth === publicAccess) {
      problems.push(`rate limit ${limit?.name} is per account on a public method`)
    }
  }
  return problems
}

function policyTable(methods: Iterable<AnyXrpcMethod>): string {
  return [...methods]
    .map((method) => ({ nsid: method.nsid, problems: policyProblems(method) }))
    .filter((row) => row.problems.length > 0)
    .map((row) => `  ${row.nsid.padEnd(45)} | ${row.problems.join(', ')}`)
    .join('\n')
}

describe('the registry', () => {
  it('declares auth, permission and rate limits for every method', () => {
    const registry = buildRegistry()
    expect(registry.size).toBeGreaterThan(40)
    const table = policyTable(registry.values())
    expect(table, `methods without a complete policy:\n${table}`).toBe('')
  })

  it('the check catches a method whose policy was cast away', () => {
    const broken = {
      nsid: 'com.example.broken',
      handler: async () => undefined,
      rateLimits: [{ limit: { name: 'x', windowSeconds: 60, max: 1 }, key: 'account' }],
      auth: publicAccess,
    } as unknown as AnyXrpcMethod
    expect(policyTable([broken])).toBe(
      `  ${'com.example.broken'.padEnd(45)} | no permission, rate limit x is per account on a public method`,
    )
  })
})

function sampleCall(nsid: string): MethodCall {
  return {
    nsid,
    params: {},
    input: undefined,
    auth: { kind: 'access', did: 'did:plc:alice' },
    request: new Request(`http://localhost/xrpc/${nsid}`),
    config: getConfig(env),
    db: getDb(env.DB),
  }
}

/** The permissions a registered method declares for a call. */
function permissionsOf(nsid: string, call: Partial<MethodCall>): string[] {
  const method = buildRegistry().get(nsid)
  if (!method) throw new Error(`no method ${nsid}`)
  const full: MethodCall = { ...sampleCall(nsid), ...call }
  const list = typeof method.permission === 'function' ? method.permission(full) : method.permission
  return list.map(formatPermission)
}

describe('declared permissions', () => {
  it('applyWrites: one repo permission per write', () => {
    const writes = [
      { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: {} },
      {
        $type: 'com.atproto.repo.applyWrites#update',
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        value: {},
      },
      { $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.like', rkey: 'x' },
    ]
    expect(permissionsOf('com.atproto.repo.applyWrites', { input: { repo: 'a', writes } })).toEqual(
      [
        'repo:app.bsky.feed.post?action=create',
        'repo:app.bsky.actor.profile?action=update',
        'repo:app.bsky.feed.like?action=delete',
      ],
    )
  })

  it('record writes name their collection and action; putRecord may create or update', () => {
    const input = { repo: 'a', collection: 'app.bsky.feed.post', rkey: 'x', record: {} }
    expect(permissionsOf('com.atproto.repo.createRecord', { input })).toEqual([
      'repo:app.bsky.feed.post?action=create',
    ])
    expect(permissionsOf('com.atproto.repo.putRecord', { input })).toEqual([
      'repo:app.bsky.feed.post?action=create',
      'repo:app.bsky.feed.post?action=update',
    ])
    expect(permissionsOf('com.atproto.repo.deleteRecord', { input })).toEqual([
      'repo:app.bsky.feed.post?action=delete',
    ])
  })

  it('uploadBlob: the MIME type sent; getServiceAuth: the method and audience asked for', () => {
    const input: RawInput = { encoding: 'image/png', body: null, contentLength: 3 }
    expect(permissionsOf('com.atproto.repo.uploadBlob', { input })).toEqual(['blob:image/png'])
    const withParams: RawInput = { ...input, encoding: 'Text/HTML; charset=utf-8' }
    expect(permissionsOf('com.atproto.repo.uploadBlob', { input: withParams })).toEqual([
      'blob:text/html',
    ])
    const params = { aud: 'did:web:video.bsky.app', lxm: 'app.bsky.video.getUploadLimits' }
    expect(permissionsOf('com.atproto.server.getServiceAuth', { params })).toEqual([
      'rpc:app.bsky.video.getUploadLimits?aud=did:web:video.bsky.app',
    ])
    expect(
      permissionsOf('com.atproto.server.getServiceAuth', { params: { aud: 'did:web:x.test' } }),
    ).toEqual(['rpc:*?aud=did:web:x.test'])
  })

  it('preferences: rpc on the AppView, or on the service the proxy header names', () => {
    const appView = getConfig(env).appView?.did
    expect(permissionsOf('app.bsky.actor.getPreferences', {})).toEqual([
      `rpc:app.bsky.actor.getPreferences?aud=${appView}`,
    ])
    const request = new Request('http://localhost/', {
      headers: { 'atproto-proxy': 'did:web:other.test#bsky_appview' },
    })
    expect(permissionsOf('app.bsky.actor.putPreferences', { request })).toEqual([
      'rpc:app.bsky.actor.putPreferences?aud=did:web:other.test#bsky_appview',
    ])
  })

  it('getFeed: getFeed and getFeedSkeleton on the AppView, as the reference PDS', () => {
    const appView = getConfig(env).appView?.did
    const params = { feed: 'at://did:plc:alice/app.bsky.feed.generator/cats' }
    expect(permissionsOf('app.bsky.feed.getFeed', { params })).toEqual([
      `rpc:app.bsky.feed.getFeed?aud=${appView}`,
      `rpc:app.bsky.feed.getFeedSkeleton?aud=${appView}`,
    ])
  })

  it('account management no OAuth token may do is marked so; public reads need nothing', () => {
    for (const nsid of [
      'com.atproto.server.createAppPassword',
      'com.atproto.server.listAppPasswords',
      'com.atproto.server.revokeAppPassword',
      'com.atproto.server.requestAccountDelete',
      'com.atproto.server.getAccountInviteCodes',
    ]) {
      expect(permissionsOf(nsid, {}), nsid).toEqual(['password-session'])
    }
    // As the reference PDS: the account's hosting status is an OAuth permission of its own.
    for (const nsid of [
      'com.atproto.server.deactivateAccount',
      'com.atproto.server.activateAccount',
    ]) {
      expect(permissionsOf(nsid, {}), nsid).toEqual(['account:status?action=manage'])
    }
    expect(permissionsOf('com.atproto.server.getSession', {})).toEqual([])
    expect(permissionsOf('com.atproto.repo.importRepo', {})).toEqual(['account:repo?action=manage'])
    expect(permissionsOf('com.atproto.identity.updateHandle', {})).toEqual(['identity:handle'])
    for (const nsid of [
      'com.atproto.identity.getRecommendedDidCredentials',
      'com.atproto.identity.requestPlcOperationSignature',
      'com.atproto.identity.signPlcOperation',
      'com.atproto.identity.submitPlcOperation',
    ]) {
      expect(permissionsOf(nsid, {}), nsid).toEqual(['identity:*'])
    }
    for (const nsid of [
      'com.atproto.server.confirmEmail',
      'com.atproto.server.requestEmailConfirmation',
      'com.atproto.server.requestEmailUpdate',
      'com.atproto.server.updateEmail',
    ]) {
      expect(permissionsOf(nsid, {}), nsid).toEqual(['account:email?action=manage'])
    }
    expect(permissionsOf('com.atproto.repo.getRecord', {})).toEqual([])
    // Public; a session that comes along only lets the account read its deactivated repo.
    expect(buildRegistry().get('com.atproto.sync.getRepo')?.auth).toBe(optionalAccess)
    expect(permissionsOf('com.atproto.sync.getRepo', {})).toEqual([])
  })

  it('proxied methods: the session verifier and rpc on the target service', () => {
    const config = getConfig(env)
    const request = new Request('http://localhost/xrpc/app.bsky.feed.getTimeline', {
      headers: { 'atproto-proxy': 'did:web:appview.test#bsky_appview' },
    })
    const method = proxiedMethod('app.bsky.feed.getTimeline', request, config)
    expect(policyProblems(method)).toEqual([])
    const call = { ...sampleCall(method.nsid), auth: null, request, config }
    expect(typeof method.permission === 'function' && method.permission(call)).toEqual([
      {
        resource: 'rpc',
        lxm: 'app.bsky.feed.getTimeline',
        aud: 'did:web:appview.test#bsky_appview',
      },
    ])
    const chat = proxiedMethod(
      'chat.bsky.convo.listConvos',
      new Request('http://localhost/'),
      config,
    )
    expect(
      typeof chat.permission === 'function' &&
        chat.permission({ ...call, nsid: chat.nsid, request: new Request('http://localhost/') }),
    ).toEqual([{ resource: 'rpc', lxm: 'chat.bsky.convo.listConvos', aud: config.chat?.did }])
    expect(() => proxiedMethod('com.atproto.server.createAccount', request, config)).toThrow(
      /not implemented/i,
    )
  })
})

interface LoginInput {
  identifier: string
  password: string
}

/** A stand-in for a real Lexicon method (createSession's input is validated). */
function login(
  overrides: Partial<{
    auth: AnyXrpcMethod['auth']
    permission: (call: MethodCall<unknown, LoginInput, unknown>) => Permission[]
    rateLimits: RateLimitRule<MethodCall<unknown, LoginInput, unknown>>[]
  }>,
  onCall: (permissions: readonly Permission[]) => void = () => {},
): AnyXrpcMethod {
  return defineMethod<unknown, LoginInput, unknown>({
    nsid: 'com.atproto.server.createSession',
    auth: overrides.auth ?? publicAccess,
    permission: overrides.permission ?? noPermission,
    rateLimits: overrides.rateLimits ?? noRateLimits,
    async handler({ input, permissions }) {
      onCall(permissions)
      if (input.password !== 'right') throw new AuthRequiredError('Invalid identifier or password')
      return {
        body: { accessJwt: 'a', refreshJwt: 'r', handle: 'alice.test', did: 'did:plc:alice' },
      }
    },
  })
}

async function call(
  method: AnyXrpcMethod,
  input: LoginInput,
  opts: { authorize?: Authorize; headers?: Record<string, string>; rateLimits?: boolean } = {},
): Promise<Response> {
  const request = new Request('http://localhost:2583/xrpc/com.atproto.server.createSession', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify(input),
  })
  const db = getDb(env.DB)
  try {
    return await dispatchXrpc(method.nsid, request, {
      registry: createRegistry([method]),
      schemas: getXrpcSchemas(),
      env,
      config: readConfig({
        PDS_DEV_MODE: 'true',
        PDS_RATE_LIMITS_ENABLED: String(opts.rateLimits ?? true),
      }),
      services: { db },
      rateLimits: d1RateLimitStore(db),
      authorize: opts.authorize ?? (() => {}),
      waitUntil: () => {},
    })
  } catch (err) {
    return toErrorResponse(err)
  }
}

describe('authorize', () => {
  it('receives the permissions computed from the call and hands them to the handler', async () => {
    let seen: readonly Permission[] | null = null
    let authorized: readonly Permission[] | null = null
    const method = login(
      { permission: ({ input }) => [repoPermission(input.identifier, 'create')] },
      (permissions) => {
        seen = permissions
      },
    )
    const res = await call(
      method,
      { identifier: 'app.bsky.feed.post', password: 'right' },
      {
        authorize: (permissions) => {
          authorized = permissions
        },
      },
    )
    expect(res.status).toBe(200)
    const expected = [{ resource: 'repo', collection: 'app.bsky.feed.post', action: 'create' }]
    expect(authorized).toEqual(expected)
    expect(seen).toEqual(expected)
  })

  it('a denial blocks the handler', async () => {
    let ran = false
    const method = login({}, () => {
      ran = true
    })
    const res = await call(
      method,
      { identifier: 'alice.test', password: 'right' },
      {
        authorize: () => {
          throw new ForbiddenError('planted denial')
        },
      },
    )
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ error: 'Forbidden', message: 'planted denial' })
    expect(ran).toBe(false)
  })
})

/** A limit of its own for each test, in a window (a day) no test run straddles in practice. */
function freshLimit(max: number) {
  return { name: `test-${crypto.randomUUID()}`, windowSeconds: 86_400, max }
}

describe('declared rate limits', () => {
  it('a key computed from the validated call, case-insensitive', async () => {
    const method = login({
      rateLimits: [{ limit: freshLimit(2), key: ({ input }) => input.identifier }],
    })
    expect((await call(method, { identifier: 'Alice', password: 'right' })).status).toBe(200)
    expect((await call(method, { identifier: 'alice', password: 'wrong' })).status).toBe(401)
    const limited = await call(method, { identifier: 'ALICE', password: 'right' })
    expect(limited.status).toBe(429)
    expect(await limited.json()).toMatchObject({ error: 'RateLimitExceeded' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await call(method, { identifier: 'bob', password: 'right' })).status).toBe(200)
  })

  it('failures only: successes are free, failures count, and the limit is checked first', async () => {
    let calls = 0
    const method = login(
      {
        rateLimits: [
          { limit: freshLimit(2), key: ({ input }) => input.identifier, counts: 'failures' },
        ],
      },
      () => {
        calls++
      },
    )
    const as = (password: string) => call(method, { identifier: 'carol', password })
    for (let i = 0; i < 4; i++) expect((await as('right')).status).toBe(200)
    expect((await as('wrong')).status).toBe(401)
    expect((await as('wrong')).status).toBe(401)
    expect(calls).toBe(6)
    // Two failures reached the max: refused before the handler, even with the right password.
    expect((await as('right')).status).toBe(429)
    expect(calls).toBe(6)
  })

  it('a cost takes several points a call', async () => {
    const method = login({
      rateLimits: [
        { limit: freshLimit(5), key: 'ip', cost: ({ input }) => input.identifier.length },
      ],
    })
    const headers = { 'cf-connecting-ip': '192.0.2.77' }
    const as = (identifier: string) => call(method, { identifier, password: 'right' }, { headers })
    expect((await as('ab')).status).toBe(200) // 2
    expect((await as('abc')).status).toBe(200) // 5
    expect((await as('a')).status).toBe(429) // 6
  })

  it('per account: keyed on the authenticated DID', async () => {
    const method = login({
      auth: async (request) => ({ did: request.headers.get('x-test-did') }),
      rateLimits: [{ limit: freshLimit(1), key: 'account' }],
    })
    const as = (did: string) =>
      call(method, { identifier: 'x', password: 'right' }, { headers: { 'x-test-did': did } })
    expect((await as('did:plc:one')).status).toBe(200)
    expect((await as('did:plc:one')).status).toBe(429)
    expect((await as('did:plc:two')).status).toBe(200)
  })

  it('every rule applies in order, and none when limits are turned off', async () => {
    const perIp = freshLimit(1)
    const method = login({
      rateLimits: [
        { limit: perIp, key: 'ip' },
        { limit: freshLimit(10), key: ({ input }) => input.identifier },
      ],
    })
    const headers = { 'cf-connecting-ip': '192.0.2.78' }
    const as = (rateLimits: boolean) =>
      call(method, { identifier: 'dave', password: 'right' }, { headers, rateLimits })
    expect((await as(true)).status).toBe(200)
    expect((await as(true)).status).toBe(429)
    expect((await as(false)).status).toBe(200)
  })
})

describe('defineMethod keyed by NSID', () => {
  it('takes params, input and output from the Lexicon and the auth type from the verifier', async () => {
    const method = defineMethod('com.atproto.server.createSession', {
      auth: async () => ({ did: 'did:plc:typed' }),
      permission: ({ input }) => [repoPermission(input.identifier, 'create')],
      rateLimits: noRateLimits,
      async handler({ input, auth }) {
        // Both typed: `identifier` from the Lexicon, `did` from the verifier above.
        const did: string = auth.did
        return {
          body: { accessJwt: 'a', refreshJwt: 'r', handle: input.identifier, did },
        }
      },
    })
    const res = await call(method, { identifier: 'alice.test', password: 'x' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ handle: 'alice.test', did: 'did:plc:typed' })

    defineMethod('com.atproto.server.createSession', {
      auth: publicAccess,
      permission: noPermission,
      rateLimits: noRateLimits,
      // @ts-expect-error the Lexicon's output requires accessJwt, refreshJwt, handle and did
      handler: async () => ({ body: { accessJwt: 'a' } }),
    })
    defineMethod('com.atproto.repo.getRecord', {
      auth: publicAccess,
      permission: noPermission,
      rateLimits: noRateLimits,
      async handler({ params }) {
        // @ts-expect-error getRecord has no `did` param
        return { body: { uri: params.did, value: {} } }
      },
    })
  })
})
