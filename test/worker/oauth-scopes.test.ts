/**
 * OAuth scopes enforced on every call: the real registered methods (and the proxy fallback),
 * through the real dispatcher and `authorizeCall`, against real D1/R2/Durable Objects, with an
 * OAuth-kind auth. The OAuth access-token verifier is not part of this test: each method's
 * own verifier checks a real session of a real account, and a test-only wrapper (here, not in
 * the Worker) turns that into `{ kind: 'oauth', did, scope, ... }` with the scope a test
 * names. So what is tested is exactly what the real verifier hands on: the permissions each
 * method declares, computed from the real call, against the granted scope.
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildRegistry } from '../../src/api/index.ts'
import { proxiedMethod } from '../../src/api/proxy-fallback.ts'
import { getConfig } from '../../src/config.ts'
import { openRequestSessions } from '../../src/db/session.ts'
import { createRegistry, dispatchXrpc } from '../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../src/xrpc/errors.ts'
import type { AnyXrpcMethod } from '../../src/xrpc/method.ts'
import { dispatchDeps } from '../../worker/dispatch-deps.ts'
import { createTestAccount, type TestAccount } from './helpers/xrpc.ts'
import { fakeUpstreams, json } from './proxy-upstreams.ts'

const APPVIEW = 'https://api.bsky.app'
const APPVIEW_AUD = 'did:web:api.bsky.app%23bsky_appview'
const CHAT = 'https://api.bsky.chat'

/** The test-only way in: which scope the OAuth-kind auth of a call carries. */
const SCOPE_HEADER = 'x-test-oauth-scope'

/** A registered method whose auth, once its own verifier passed, is an OAuth token's. */
function asOAuth(method: AnyXrpcMethod): AnyXrpcMethod {
  return {
    ...method,
    auth: async (request, deps) => {
      const legacy = (await method.auth(request, deps)) as { did: string } | null
      const scope = request.headers.get(SCOPE_HEADER)
      if (scope === null || legacy === null) return legacy
      return {
        kind: 'oauth',
        did: legacy.did,
        scope,
        clientId: 'https://app.example/client-metadata.json',
        tokenId: crypto.randomUUID(),
      }
    },
  }
}

const config = getConfig(env)
const registry = createRegistry([...buildRegistry().values()].map(asOAuth))

interface Answer {
  status: number
  body: Record<string, unknown>
}

/** One call through the Worker's dispatcher, as `scope` (or the legacy session alone: null). */
async function call(
  account: TestAccount,
  scope: string | null,
  nsid: string,
  opts: { input?: unknown; params?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(`http://localhost:2583/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(opts.params ?? {})) url.searchParams.set(key, value)
  const headers: Record<string, string> = {
    authorization: `Bearer ${account.accessJwt}`,
    ...(scope === null ? {} : { [SCOPE_HEADER]: scope }),
    ...opts.headers,
  }
  let body: BodyInit | undefined
  if (opts.input instanceof Uint8Array) body = opts.input
  else if (opts.input !== undefined) {
    body = JSON.stringify(opts.input)
    headers['content-type'] = 'application/json'
  }
  const request = new Request(url, {
    method: opts.input === undefined ? 'GET' : 'POST',
    headers,
    body,
  })
  const pending: Promise<unknown>[] = []
  let res: Response
  try {
    res = await dispatchXrpc(nsid, request, {
      ...dispatchDeps(
        env,
        config,
        (promise) => pending.push(promise),
        openRequestSessions(env.DB, request),
      ),
      registry,
      fallback: (name, req) => asOAuth(proxiedMethod(name, req, config)),
    })
  } catch (err) {
    res = toErrorResponse(err)
  }
  await Promise.all(pending)
  const text = await res.text()
  expect(res.status, text).not.toBe(500)
  return { status: res.status, body: text ? JSON.parse(text) : {} }
}

function record(collection: string, extra: Record<string, unknown> = {}) {
  return { $type: collection, createdAt: new Date().toISOString(), ...extra }
}

const post = (account: TestAccount) => ({
  repo: account.did,
  collection: 'app.bsky.feed.post',
  record: record('app.bsky.feed.post', { text: 'hello' }),
})

const like = (account: TestAccount) => ({
  repo: account.did,
  collection: 'app.bsky.feed.like',
  record: record('app.bsky.feed.like', {
    subject: {
      uri: `at://${account.did}/app.bsky.feed.post/3jzfcijpj2z2a`,
      cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
    },
  }),
})

function expectMissing(answer: Answer, scope: string): void {
  expect(answer.status).toBe(403)
  expect(answer.body).toEqual({
    error: 'ScopeMissingError',
    message: `Missing required scope "${scope}"`,
  })
}

let alice: TestAccount

/** The account's blob rows in D1 and objects in R2: what an upload leaves behind. */
async function blobRows(did: string): Promise<string> {
  const rows = await env.DB.prepare('SELECT cid FROM blob WHERE did = ?').bind(did).all()
  const objects = await env.STORAGE.list({ prefix: `blob/${did}/` })
  return JSON.stringify({ rows: rows.results, objects: objects.objects.map((o) => o.key) })
}

beforeAll(async () => {
  alice = await createTestAccount('scopes')
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('atproto alone', () => {
  it('cannot write, but may read the session (without the email) and public data', async () => {
    expectMissing(
      await call(alice, 'atproto', 'com.atproto.repo.createRecord', { input: post(alice) }),
      'repo:app.bsky.feed.post?action=create',
    )
    const session = await call(alice, 'atproto', 'com.atproto.server.getSession')
    expect(session.status).toBe(200)
    expect(session.body).toMatchObject({ did: alice.did, handle: alice.handle })
    expect(session.body.email).toBeUndefined()
    const described = await call(alice, 'atproto', 'com.atproto.repo.describeRepo', {
      params: { repo: alice.did },
    })
    expect(described.status).toBe(200)
  })

  it('a token without atproto is refused even where nothing else is needed', async () => {
    expectMissing(
      await call(alice, 'transition:generic', 'com.atproto.server.getSession'),
      'atproto',
    )
  })
})

describe('granular repo scopes', () => {
  const scope = 'atproto repo:app.bsky.feed.post?action=create'

  it('can post but not like, update or delete', async () => {
    const created = await call(alice, scope, 'com.atproto.repo.createRecord', {
      input: post(alice),
    })
    expect(created.status).toBe(200)
    const uri = String(created.body.uri)
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.createRecord', { input: like(alice) }),
      'repo:app.bsky.feed.like?action=create',
    )
    const rkey = uri.split('/').pop() as string
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.deleteRecord', {
        input: { repo: alice.did, collection: 'app.bsky.feed.post', rkey },
      }),
      'repo:app.bsky.feed.post?action=delete',
    )
    // putRecord may create or update: it needs both.
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.putRecord', {
        input: { ...post(alice), rkey: 'fresh' },
      }),
      'repo:app.bsky.feed.post?action=update',
    )
    // Nothing was written by the refused calls.
    const read = await call(alice, null, 'com.atproto.repo.getRecord', {
      params: { repo: alice.did, collection: 'app.bsky.feed.post', rkey: 'fresh' },
    })
    expect(read.status).toBe(400)
  })

  it('applyWrites: every write must be allowed, or none is made', async () => {
    const writes = (collection: string) => [
      { $type: 'com.atproto.repo.applyWrites#create', ...post(alice), value: post(alice).record },
      {
        $type: 'com.atproto.repo.applyWrites#create',
        collection,
        value: collection === 'app.bsky.feed.like' ? like(alice).record : post(alice).record,
      },
    ]
    const ok = await call(alice, scope, 'com.atproto.repo.applyWrites', {
      input: { repo: alice.did, writes: writes('app.bsky.feed.post') },
    })
    expect(ok.status).toBe(200)
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.applyWrites', {
        input: { repo: alice.did, writes: writes('app.bsky.feed.like') },
      }),
      'repo:app.bsky.feed.like?action=create',
    )
  })

  it('the same calls with the legacy session are unchanged', async () => {
    expect(
      (await call(alice, null, 'com.atproto.repo.createRecord', { input: like(alice) })).status,
    ).toBe(200)
    const session = await call(alice, null, 'com.atproto.server.getSession')
    expect(session.body.email).toBe(alice.email)
  })
})

describe('rpc scopes', () => {
  const scope = `atproto rpc:app.bsky.feed.getTimeline?aud=${APPVIEW_AUD}`

  it('limit proxied calls to their method and service', async () => {
    const calls = fakeUpstreams({ [APPVIEW]: () => json({ feed: [] }) })
    const timeline = await call(alice, scope, 'app.bsky.feed.getTimeline')
    expect(timeline).toEqual({ status: 200, body: { feed: [] } })
    expectMissing(
      await call(alice, scope, 'app.bsky.feed.getAuthorFeed', { params: { actor: alice.did } }),
      `rpc:app.bsky.feed.getAuthorFeed?aud=${APPVIEW_AUD}`,
    )
    expectMissing(
      await call(alice, scope, 'app.bsky.feed.getTimeline', {
        headers: { 'atproto-proxy': 'did:web:other-appview.example#bsky_appview' },
      }),
      'rpc:app.bsky.feed.getTimeline?aud=did:web:other-appview.example%23bsky_appview',
    )
    // Only the allowed call reached a service.
    expect(calls.map((c) => c.url.pathname)).toEqual(['/xrpc/app.bsky.feed.getTimeline'])
  })

  it('getServiceAuth: the lxm and aud asked for', async () => {
    const params = { aud: 'did:web:api.bsky.app#bsky_appview', lxm: 'app.bsky.feed.getTimeline' }
    const allowed = await call(alice, scope, 'com.atproto.server.getServiceAuth', { params })
    expect(allowed.status).toBe(200)
    expect(typeof allowed.body.token).toBe('string')
    expectMissing(
      await call(alice, scope, 'com.atproto.server.getServiceAuth', {
        params: { ...params, lxm: 'app.bsky.feed.getAuthorFeed' },
      }),
      `rpc:app.bsky.feed.getAuthorFeed?aud=${APPVIEW_AUD}`,
    )
    expectMissing(
      await call(alice, scope, 'com.atproto.server.getServiceAuth', {
        params: { aud: params.aud },
      }),
      `rpc:*?aud=${APPVIEW_AUD}`,
    )
  })

  it('preferences are rpc on the AppView, as the reference PDS', async () => {
    expectMissing(
      await call(alice, scope, 'app.bsky.actor.getPreferences'),
      `rpc:app.bsky.actor.getPreferences?aud=${APPVIEW_AUD}`,
    )
    const prefs = await call(
      alice,
      `atproto rpc:app.bsky.actor.getPreferences?aud=${APPVIEW_AUD}`,
      'app.bsky.actor.getPreferences',
    )
    expect(prefs).toEqual({ status: 200, body: { preferences: [] } })
  })
})

describe('transition:generic', () => {
  const generic = 'atproto transition:generic'

  it('does what an app password may do', async () => {
    fakeUpstreams({ [APPVIEW]: () => json({ feed: [] }) })
    expect(
      (await call(alice, generic, 'com.atproto.repo.createRecord', { input: like(alice) })).status,
    ).toBe(200)
    expect((await call(alice, generic, 'app.bsky.feed.getTimeline')).status).toBe(200)
    const blob = await call(alice, generic, 'com.atproto.repo.uploadBlob', {
      input: new TextEncoder().encode('any bytes'),
      headers: { 'content-type': 'application/octet-stream' },
    })
    expect(blob.status).toBe(200)
  })

  it('but not what only the account password may, chat, the email or the handle', async () => {
    for (const nsid of [
      'com.atproto.server.createAppPassword',
      'com.atproto.server.listAppPasswords',
      'com.atproto.server.requestAccountDelete',
    ]) {
      const input = nsid.endsWith('createAppPassword') ? { name: 'x' } : undefined
      const refused = await call(alice, generic, nsid, {
        input: nsid.endsWith('requestAccountDelete') ? {} : input,
      })
      expect(refused, nsid).toEqual({
        status: 403,
        body: {
          error: 'Forbidden',
          message: 'OAuth credentials are not supported for this endpoint',
        },
      })
    }
    const chat = fakeUpstreams({ [CHAT]: () => json({ convos: [] }) })
    expectMissing(
      await call(alice, generic, 'chat.bsky.convo.listConvos'),
      'rpc:chat.bsky.convo.listConvos?aud=did:web:api.bsky.chat%23bsky_chat',
    )
    expect(chat).toEqual([])
    expectMissing(
      await call(alice, generic, 'com.atproto.identity.updateHandle', {
        input: { handle: alice.handle },
      }),
      'identity:handle',
    )
    // PLC operations are the whole DID document: identity:handle is not enough either.
    expectMissing(
      await call(alice, 'atproto identity:handle', 'com.atproto.identity.signPlcOperation', {
        input: { token: 'x' },
      }),
      'identity:*',
    )
    expect((await call(alice, generic, 'com.atproto.server.getSession')).body.email).toBeUndefined()
    const withEmail = await call(
      alice,
      `${generic} transition:email`,
      'com.atproto.server.getSession',
    )
    expect(withEmail.body.email).toBe(alice.email)
  })
})

describe('blob scopes', () => {
  it('blob:image/* allows image uploads only', async () => {
    const scope = 'atproto blob:image/*'
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])
    const image = await call(alice, scope, 'com.atproto.repo.uploadBlob', {
      input: png,
      headers: { 'content-type': 'image/png' },
    })
    expect(image.status).toBe(200)
    expect(image.body).toMatchObject({ blob: { mimeType: 'image/png' } })
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.uploadBlob', {
        input: new TextEncoder().encode('<html></html>'),
        headers: { 'content-type': 'text/html; charset=utf-8' },
      }),
      'blob:text/html',
    )
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.uploadBlob', {
        input: png,
        headers: { 'content-type': 'video/mp4' },
      }),
      'blob:video/mp4',
    )
  })

  it('blob:image/* holds for the type the bytes turn out to be, not only the declared one', async () => {
    const scope = 'atproto blob:image/*'
    // An MP4 file declared as a PNG: stored, it would be served as video/mp4.
    const mp4 = Uint8Array.from([
      0,
      0,
      0,
      0x18,
      ...new TextEncoder().encode('ftypmp42'),
      0,
      0,
      0,
      0,
    ])
    const before = await blobRows(alice.did)
    expectMissing(
      await call(alice, scope, 'com.atproto.repo.uploadBlob', {
        input: mp4,
        headers: { 'content-type': 'image/png' },
      }),
      'blob:video/mp4',
    )
    expect(await blobRows(alice.did)).toBe(before)
  })
})

describe('account email', () => {
  it('account:email reads the address; changing it needs account:email?action=manage', async () => {
    const scope = 'atproto account:email'
    expect((await call(alice, scope, 'com.atproto.server.getSession')).body.email).toBe(alice.email)
    expectMissing(
      await call(alice, scope, 'com.atproto.server.updateEmail', {
        input: { email: 'new@example.com' },
      }),
      'account:email?action=manage',
    )
  })
})

describe('account repo', () => {
  it('importRepo needs account:repo?action=manage, which transition:generic is not', async () => {
    expectMissing(
      await call(alice, 'atproto transition:generic', 'com.atproto.repo.importRepo', {
        input: Uint8Array.from([0]),
        headers: { 'content-type': 'application/vnd.ipld.car' },
      }),
      'account:repo?action=manage',
    )
    // Past authorization, the handler decides: this account is active, not migrating.
    const refused = await call(
      alice,
      'atproto account:repo?action=manage',
      'com.atproto.repo.importRepo',
      { input: Uint8Array.from([0]), headers: { 'content-type': 'application/vnd.ipld.car' } },
    )
    expect(refused.status).toBe(400)
    expect(String(refused.body.message)).toMatch(/deactivated account/)
  })
})

describe('account status', () => {
  it('deactivating needs account:status?action=manage', async () => {
    const bob = await createTestAccount('scopesb')
    expectMissing(
      await call(bob, 'atproto transition:generic', 'com.atproto.server.deactivateAccount', {
        input: {},
      }),
      'account:status?action=manage',
    )
    const done = await call(
      bob,
      'atproto account:status?action=manage',
      'com.atproto.server.deactivateAccount',
      { input: {} },
    )
    expect(done.status).toBe(200)
    const session = await call(bob, null, 'com.atproto.server.getSession')
    expect(session.body).toMatchObject({ active: false })
  })
})
