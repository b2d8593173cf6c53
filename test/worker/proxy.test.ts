/**
 * Service proxying through the Worker: methods we do not serve go to the AppView, chat or
 * moderation service, or to the service an `atproto-proxy` header names, with a service-auth
 * token signed by the account's key; what is refused, and how upstream failures look.
 */
import { SELF } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BASE, createTestAccount, type TestAccount, xrpcPost } from './helpers/xrpc.ts'
import {
  didWebDocument,
  fakeUpstreams,
  json,
  type UpstreamCall,
  verifyForwardedToken,
} from './proxy-upstreams.ts'

const APPVIEW = 'https://api.bsky.app'
const APPVIEW_DID = 'did:web:api.bsky.app#bsky_appview'
const CHAT = 'https://api.bsky.chat'
const MODERATION = 'https://mod.bsky.app'

afterEach(() => {
  vi.restoreAllMocks()
})

async function call(
  nsid: string,
  opts: {
    token?: string
    params?: Record<string, string>
    body?: unknown
    headers?: Record<string, string>
  } = {},
): Promise<{ status: number; body: Record<string, unknown>; text: string; headers: Headers }> {
  const url = new URL(`${BASE}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(opts.params ?? {})) url.searchParams.set(key, value)
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await SELF.fetch(url, {
    method: opts.body === undefined ? 'GET' : 'POST',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const text = await res.text()
  if (res.status === 500) throw new Error(`the PDS answered 500: ${text}`)
  let body: Record<string, unknown> = {}
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = { raw: text }
  }
  return { status: res.status, body, text, headers: res.headers }
}

/** An AppView, chat and moderation service that echo what they received. */
function echoServices(): UpstreamCall[] {
  const echo = (request: Request) =>
    json({ served: new URL(request.url).pathname }, { headers: { 'atproto-repo-rev': '3kabc' } })
  return fakeUpstreams({ [APPVIEW]: echo, [CHAT]: echo, [MODERATION]: echo })
}

async function appPasswordSession(account: TestAccount, privileged: boolean): Promise<string> {
  const created = await xrpcPost<{ password: string }>(
    'com.atproto.server.createAppPassword',
    { name: `app-${privileged}`, privileged },
    account.accessJwt,
  )
  expect(created.status).toBe(200)
  const session = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
    identifier: account.handle,
    password: created.body.password,
  })
  expect(session.status).toBe(200)
  return session.body.accessJwt
}

describe('default services', () => {
  it('forwards app.bsky.* to the AppView with a service token signed by the account key', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxalice')
    const res = await call('app.bsky.actor.getProfile', {
      token: alice.accessJwt,
      params: { actor: alice.did },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ served: '/xrpc/app.bsky.actor.getProfile' })
    expect(res.headers.get('atproto-repo-rev')).toBe('3kabc')

    expect(calls).toHaveLength(1)
    const [forwarded] = calls as [UpstreamCall]
    expect(forwarded.url.toString()).toBe(
      `${APPVIEW}/xrpc/app.bsky.actor.getProfile?actor=${encodeURIComponent(alice.did)}`,
    )
    const claims = await verifyForwardedToken(forwarded, {
      aud: APPVIEW_DID,
      lxm: 'app.bsky.actor.getProfile',
    })
    expect(claims.iss).toBe(alice.did)
    expect(claims.jti).toMatch(/^[0-9a-f]{32}$/)
    expect(claims.exp - (claims.iat ?? 0)).toBeLessThanOrEqual(60)
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000)
  })

  it('signs a fresh token for every call', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxfresh')
    for (let i = 0; i < 2; i++) {
      const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
      expect(res.status).toBe(200)
    }
    const tokens = calls.map((c) => c.headers.get('authorization'))
    expect(tokens[0]).not.toBe(tokens[1])
  })

  it('forwards a procedure with its body', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxbody')
    const body = { actor: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' }
    const res = await call('app.bsky.graph.muteActor', { token: alice.accessJwt, body })
    expect(res.status).toBe(200)
    const [forwarded] = calls as [UpstreamCall]
    expect(forwarded.method).toBe('POST')
    expect(JSON.parse(forwarded.body)).toEqual(body)
    expect(forwarded.headers.get('content-type')).toBe('application/json')
    await verifyForwardedToken(forwarded, { aud: APPVIEW_DID, lxm: 'app.bsky.graph.muteActor' })
  })

  it('sends chat.bsky.* to the chat service, reports and tools.ozone.* to moderation', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxroute')
    expect((await call('chat.bsky.convo.listConvos', { token: alice.accessJwt })).status).toBe(200)
    const report = {
      reasonType: 'com.atproto.moderation.defs#reasonSpam',
      subject: { $type: 'com.atproto.admin.defs#repoRef', did: alice.did },
    }
    const reported = await call('com.atproto.moderation.createReport', {
      token: alice.accessJwt,
      body: report,
    })
    expect(reported.status).toBe(200)
    const ozone = await call('tools.ozone.moderation.getRepo', {
      token: alice.accessJwt,
      params: { did: alice.did },
    })
    expect(ozone.status).toBe(200)

    expect(calls.map((c) => c.url.origin)).toEqual([CHAT, MODERATION, MODERATION])
    await verifyForwardedToken(calls[0]!, {
      aud: 'did:web:api.bsky.chat#bsky_chat',
      lxm: 'chat.bsky.convo.listConvos',
    })
    const moderationDid = 'did:plc:ar7c4by46qjdydhdevvrndac#atproto_labeler'
    await verifyForwardedToken(calls[1]!, {
      aud: moderationDid,
      lxm: 'com.atproto.moderation.createReport',
    })
    await verifyForwardedToken(calls[2]!, {
      aud: moderationDid,
      lxm: 'tools.ozone.moderation.getRepo',
    })
  })

  it('passes only allow-listed headers, both ways', async () => {
    const calls = fakeUpstreams({
      [APPVIEW]: () =>
        json(
          { ok: true },
          {
            headers: {
              'content-language': 'en',
              'atproto-content-labelers': 'did:plc:ar7c4by46qjdydhdevvrndac',
              'set-cookie': 'session=upstream',
              'x-internal': 'secret',
            },
          },
        ),
    })
    const alice = await createTestAccount('pxheaders')
    const res = await call('app.bsky.feed.getTimeline', {
      token: alice.accessJwt,
      headers: {
        'accept-language': 'fr',
        'atproto-accept-labelers': 'did:plc:ar7c4by46qjdydhdevvrndac',
        'x-bsky-topics': 'cats',
        cookie: 'session=client',
        origin: 'https://bsky.app',
        'x-forwarded-for': '203.0.113.9',
        'x-custom': 'nope',
      },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-language')).toBe('en')
    expect(res.headers.get('atproto-content-labelers')).toBe('did:plc:ar7c4by46qjdydhdevvrndac')
    expect(res.headers.get('set-cookie')).toBeNull()
    // The web app calls cross-origin: CORS headers are ours, added to the forwarded answer.
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('x-internal')).toBeNull()

    const sent = calls[0]!.headers
    expect(sent.get('accept-language')).toBe('fr')
    expect(sent.get('atproto-accept-labelers')).toBe('did:plc:ar7c4by46qjdydhdevvrndac')
    expect(sent.get('x-bsky-topics')).toBe('cats')
    expect(sent.get('cookie')).toBeNull()
    expect(sent.get('x-forwarded-for')).toBeNull()
    expect(sent.get('x-custom')).toBeNull()
    expect(sent.get('authorization')).not.toContain(alice.accessJwt)
  })
})

describe('the atproto-proxy header', () => {
  const labelerDoc = didWebDocument(
    'labeler.example',
    'atproto_labeler',
    'AtprotoLabeler',
    'https://labels.labeler.example',
  )

  it('routes to the service the DID document names, with that DID#id as audience', async () => {
    const calls = fakeUpstreams({
      'https://labeler.example': () => json(labelerDoc),
      'https://labels.labeler.example': () => json({ labels: [] }),
      [APPVIEW]: () => json({ wrong: 'service' }),
    })
    const alice = await createTestAccount('pxheader')
    const res = await call('app.bsky.labeler.getServices', {
      token: alice.accessJwt,
      params: { dids: 'did:web:labeler.example' },
      headers: { 'atproto-proxy': 'did:web:labeler.example#atproto_labeler' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ labels: [] })
    const forwarded = calls.find((c) => c.url.origin === 'https://labels.labeler.example')!
    expect(forwarded.url.pathname).toBe('/xrpc/app.bsky.labeler.getServices')
    await verifyForwardedToken(forwarded, {
      aud: 'did:web:labeler.example#atproto_labeler',
      lxm: 'app.bsky.labeler.getServices',
    })
    expect(calls.some((c) => c.url.origin === APPVIEW)).toBe(false)
  })

  it('can route methods outside the default namespaces', async () => {
    const calls = fakeUpstreams({
      'https://labeler.example': () => json(labelerDoc),
      'https://labels.labeler.example': () => json({ cursor: '1', labels: [] }),
    })
    const alice = await createTestAccount('pxlabels')
    const res = await call('com.atproto.label.queryLabels', {
      token: alice.accessJwt,
      params: { uriPatterns: '*' },
      headers: { 'atproto-proxy': 'did:web:labeler.example#atproto_labeler' },
    })
    expect(res.status).toBe(200)
    expect(calls.at(-1)!.url.pathname).toBe('/xrpc/com.atproto.label.queryLabels')
  })

  it('refuses malformed headers and services that do not resolve', async () => {
    const calls = fakeUpstreams({
      'https://labeler.example': () => json(labelerDoc),
      'https://gone.example': () => new Response('not here', { status: 404 }),
    })
    const alice = await createTestAccount('pxbadhdr')
    const cases: Array<[string, string]> = [
      ['did:web:labeler.example', 'no service id'],
      ['#atproto_labeler', 'no DID'],
      ['did:web:labeler.example#a#b', '<did>#<service_id>'],
      ['not-a-did#atproto_labeler', 'invalid DID'],
      ['did:example:123#atproto_labeler', 'unsupported DID method'],
      ['did:web:labeler.example#bsky_appview', 'no service #bsky_appview'],
      ['did:web:gone.example#atproto_labeler', 'could not resolve'],
    ]
    for (const [header, message] of cases) {
      const res = await call('app.bsky.feed.getTimeline', {
        token: alice.accessJwt,
        headers: { 'atproto-proxy': header },
      })
      expect(res.status, header).toBe(400)
      expect(res.body.error, header).toBe('InvalidRequest')
      expect(String(res.body.message), header).toContain(message)
    }
    expect(calls.every((c) => c.url.pathname === '/.well-known/did.json')).toBe(true)
  })

  it('does not take methods we serve ourselves elsewhere', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxlocal')
    const res = await call('com.atproto.server.getSession', {
      token: alice.accessJwt,
      headers: { 'atproto-proxy': APPVIEW_DID },
    })
    expect(res.status).toBe(200)
    expect(res.body.did).toBe(alice.did)
    expect(calls).toHaveLength(0)
  })
})

describe('refusals', () => {
  it('refuses an unauthenticated call without contacting the upstream', async () => {
    const calls = echoServices()
    const res = await call('app.bsky.feed.getTimeline')
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('AuthMissing')
    const bad = await call('app.bsky.feed.getTimeline', { token: 'not-a-token' })
    expect(bad.status).toBe(400)
    expect(calls).toHaveLength(0)
  })

  it('never forwards methods about this PDS’s own accounts and repos', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxnever')
    for (const nsid of [
      'com.atproto.server.confirmEmail',
      'com.atproto.identity.refreshIdentity',
      'com.atproto.admin.getAccountInfo',
      'com.atproto.sync.notifyOfUpdate',
    ]) {
      const res = await call(nsid, {
        token: alice.accessJwt,
        headers: { 'atproto-proxy': APPVIEW_DID },
      })
      expect(res.status, nsid).toBe(501)
      expect(res.body.error, nsid).toBe('MethodNotImplemented')
    }
    expect(calls).toHaveLength(0)
  })

  it('answers 501 for a method no service is configured or named for', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxnone')
    const res = await call('com.example.unknown.method', { token: alice.accessJwt })
    expect(res.status).toBe(501)
    expect(calls).toHaveLength(0)
  })

  it('needs a full-access or privileged session for chat', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxchat')
    const plain = await appPasswordSession(alice, false)
    const refused = await call('chat.bsky.convo.listConvos', { token: plain })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toBe('InvalidToken')
    expect(calls).toHaveLength(0)
    // Other app.bsky methods are fine with an ordinary app password.
    expect((await call('app.bsky.feed.getTimeline', { token: plain })).status).toBe(200)

    const privileged = await appPasswordSession(alice, true)
    const allowed = await call('chat.bsky.convo.listConvos', { token: privileged })
    expect(allowed.status).toBe(200)
    expect(calls.map((c) => c.url.origin)).toEqual([APPVIEW, CHAT])
  })

  it('does not proxy for a deactivated account', async () => {
    const calls = echoServices()
    const alice = await createTestAccount('pxdeact')
    const off = await xrpcPost('com.atproto.server.deactivateAccount', {}, alice.accessJwt)
    expect(off.status).toBe(200)
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('AccountDeactivated')
    expect(calls).toHaveLength(0)
  })

  it('refuses verbs other than GET and POST', async () => {
    const alice = await createTestAccount('pxverb')
    const res = await SELF.fetch(`${BASE}/xrpc/app.bsky.feed.getTimeline`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessJwt}` },
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('InvalidRequest')
  })
})

describe('upstream failures', () => {
  it('passes an upstream XRPC error through with its status and body', async () => {
    const upstreamBody = { error: 'NotFound', message: 'Profile not found', extra: 1 }
    fakeUpstreams({ [APPVIEW]: () => json(upstreamBody, { status: 400 }) })
    const alice = await createTestAccount('px4xx')
    const res = await call('app.bsky.actor.getProfile', {
      token: alice.accessJwt,
      params: { actor: 'nobody.test' },
    })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.text)).toEqual(upstreamBody)
  })

  it('passes 429 with Retry-After', async () => {
    fakeUpstreams({
      [APPVIEW]: () =>
        json({ error: 'RateLimitExceeded' }, { status: 429, headers: { 'retry-after': '30' } }),
    })
    const alice = await createTestAccount('px429')
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(res.body.error).toBe('RateLimitExceeded')
  })

  it('gives a non-XRPC upstream error an XRPC body', async () => {
    fakeUpstreams({ [APPVIEW]: () => new Response('<html>nope</html>', { status: 404 }) })
    const alice = await createTestAccount('px404')
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(res.body.error).toBe('XRPCNotSupported')
    expect(String(res.body.message)).toContain(APPVIEW_DID)
  })

  it('turns an upstream 500 into 502 UpstreamFailure', async () => {
    fakeUpstreams({
      [APPVIEW]: () => json({ error: 'InternalServerError', message: 'boom' }, { status: 500 }),
    })
    const alice = await createTestAccount('px500')
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(502)
    expect(res.body.error).toBe('UpstreamFailure')
    expect(String(res.body.message)).toContain('boom')
  })

  it('answers 502 UpstreamFailure when the service is unreachable', async () => {
    fakeUpstreams({
      [APPVIEW]: () => {
        throw new TypeError('connection refused')
      },
    })
    const alice = await createTestAccount('pxdown')
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(502)
    expect(res.body).toEqual({
      error: 'UpstreamFailure',
      message: `${APPVIEW_DID} is unreachable`,
    })
  })

  it('does not follow redirects (the token would go to another host)', async () => {
    const calls = fakeUpstreams({
      [APPVIEW]: () =>
        new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }),
      'https://elsewhere.example': () => json({ leaked: true }),
    })
    const alice = await createTestAccount('pxredir')
    const res = await call('app.bsky.feed.getTimeline', { token: alice.accessJwt })
    expect(res.status).toBe(502)
    expect(calls.map((c) => c.url.origin)).toEqual([APPVIEW])
  })
})
