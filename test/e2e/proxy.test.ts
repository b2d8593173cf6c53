/**
 * Service proxying end to end: the official client (@atproto/api) against the PDS that
 * `scripts/dev.mjs` runs, configured with a stand-in AppView on loopback (`did:web`), plus a
 * second stand-in service that tests reach through `atproto-proxy`. Each forwarded call must
 * carry a service-auth JWT that verifies against the account's key in its DID document.
 */
import { AtpAgent, CredentialSession } from '@atproto/api'
import { formatDidKey, multibaseToBytes, verifySignature } from '@atproto/crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from './dev-server.ts'
import { MISSING_ACTOR, SLOW_METHOD } from './stand-in-appview.ts'
import {
  echo,
  type ReceivedRequest,
  type StandInService,
  startStandInService,
} from './stand-in-service.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const appViewUrl = inject('appViewUrl')
const appViewDid = `did:web:localhost%3A${new URL(appViewUrl).port}`
const password = 'correct horse battery staple'

let second: StandInService

beforeAll(async () => {
  const deadPort = await freePort()
  second = await startStandInService({
    services: [
      { id: 'atproto_labeler', type: 'AtprotoLabeler' },
      { id: 'bsky_fg', type: 'BskyFeedGenerator' },
      { id: 'dead', type: 'Other', endpoint: `http://localhost:${deadPort}` },
      { id: 'private', type: 'Other', endpoint: 'http://10.0.0.1:2583' },
      { id: 'metadata', type: 'Other', endpoint: 'http://169.254.169.254' },
    ],
    otherwise: echo({ feed: [] }),
  })
})

afterAll(async () => {
  await second?.close()
})

async function newAccount(prefix: string) {
  const agent = new AtpAgent(new CredentialSession(new URL(pdsUrl)))
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password })
  return { agent, did: agent.session!.did, accessJwt: agent.session!.accessJwt }
}

/** Checks a forwarded request's service token as a receiving service would, with @atproto/crypto. */
async function verifyServiceToken(
  received: ReceivedRequest,
  expected: { iss: string; aud: string; lxm: string },
): Promise<Record<string, unknown>> {
  const token = (received.headers.authorization ?? '').replace(/^Bearer /, '')
  const [header64, payload64, signature64] = token.split('.') as [string, string, string]
  const header = JSON.parse(Buffer.from(header64, 'base64url').toString('utf8'))
  const payload = JSON.parse(Buffer.from(payload64, 'base64url').toString('utf8'))
  expect(header).toMatchObject({ typ: 'JWT', alg: 'ES256K' })
  expect(payload).toMatchObject({ iss: expected.iss, aud: expected.aud, lxm: expected.lxm })
  expect(payload.jti).toMatch(/^[0-9a-f]{32}$/)
  const now = Math.floor(Date.now() / 1000)
  expect(payload.exp).toBeGreaterThan(now)
  expect(payload.exp - payload.iat).toBeLessThanOrEqual(60)

  const didKey = await signingKeyFromDidDocument(expected.iss)
  const signed = new TextEncoder().encode(`${header64}.${payload64}`)
  const signature = new Uint8Array(Buffer.from(signature64, 'base64url'))
  expect(await verifySignature(didKey, signed, signature)).toBe(true)
  // And the check is a real one: the same signature over other claims fails.
  const forged = new TextEncoder().encode(`${header64}.${payload64}x`)
  expect(await verifySignature(didKey, forged, signature)).toBe(false)
  return payload
}

/** The `#atproto` key of the DID document, as a did:key (the directory may use the legacy form). */
async function signingKeyFromDidDocument(did: string): Promise<string> {
  const doc = await (await fetch(`${plcUrl}/${did}`)).json()
  const method = doc.verificationMethod.find((m: { id: string }) => m.id.endsWith('#atproto'))
  const legacy: Record<string, string> = {
    EcdsaSecp256k1VerificationKey2019: 'ES256K',
    EcdsaSecp256r1VerificationKey2019: 'ES256',
  }
  const alg = legacy[method.type]
  const didKey = alg
    ? formatDidKey(alg, multibaseToBytes(method.publicKeyMultibase))
    : `did:key:${method.publicKeyMultibase}`
  // The directory's own record of the key agrees.
  const data = await (await fetch(`${plcUrl}/${did}/data`)).json()
  expect(data.verificationMethods.atproto).toBe(didKey)
  return didKey
}

async function xrpc(
  nsid: string,
  opts: { token?: string; params?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const url = new URL(`/xrpc/${nsid}`, pdsUrl)
  for (const [key, value] of Object.entries(opts.params ?? {})) url.searchParams.set(key, value)
  const res = await fetch(url, {
    headers: { ...opts.headers, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
  })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

describe('proxying to the configured AppView', () => {
  it('forwards with a service JWT that verifies against the account key', async () => {
    const { agent, did } = await newAccount('pxe')
    const res = await agent.app.bsky.actor.getProfile({ actor: did })
    expect(res.data.did).toBe(did)
    const received = (res.data as unknown as { received: ReceivedRequest }).received
    expect(received.path).toBe('/xrpc/app.bsky.actor.getProfile')
    expect(received.query).toEqual({ actor: did })
    await verifyServiceToken(received, {
      iss: did,
      aud: `${appViewDid}#bsky_appview`,
      lxm: 'app.bsky.actor.getProfile',
    })
  })

  it('sends chat and reports to their services, with their audiences', async () => {
    const { agent, did, accessJwt } = await newAccount('pxroute')
    const chat = await xrpc('chat.bsky.convo.listConvos', { token: accessJwt })
    expect(chat.status).toBe(200)
    await verifyServiceToken(JSON.parse(chat.text).received, {
      iss: did,
      aud: `${appViewDid}#bsky_chat`,
      lxm: 'chat.bsky.convo.listConvos',
    })
    const report = await agent.com.atproto.moderation.createReport({
      reasonType: 'com.atproto.moderation.defs#reasonSpam',
      subject: { $type: 'com.atproto.admin.defs#repoRef', did },
    })
    const received = (report.data as unknown as { received: ReceivedRequest }).received
    expect(JSON.parse(received.body)).toMatchObject({ subject: { did } })
    await verifyServiceToken(received, {
      iss: did,
      aud: `${appViewDid}#atproto_labeler`,
      lxm: 'com.atproto.moderation.createReport',
    })
  })

  it('marks proxied responses nosniff', async () => {
    const { did, accessJwt } = await newAccount('pxsniff')
    const res = await xrpc('app.bsky.actor.getProfile', {
      token: accessJwt,
      params: { actor: did },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('passes an upstream 4xx through with its body', async () => {
    const { agent, accessJwt } = await newAccount('px4xx')
    await expect(agent.app.bsky.actor.getProfile({ actor: MISSING_ACTOR })).rejects.toMatchObject({
      status: 400,
      error: 'InvalidRequest',
      message: 'Profile not found',
    })
    const raw = await xrpc('app.bsky.actor.getProfile', {
      token: accessJwt,
      params: { actor: MISSING_ACTOR },
    })
    expect(JSON.parse(raw.text)).toEqual({
      error: 'InvalidRequest',
      message: 'Profile not found',
      hint: 'stand-in',
    })
  })

  it('answers 504 UpstreamTimeout when the AppView is too slow', async () => {
    const { accessJwt } = await newAccount('pxslow')
    const started = Date.now()
    const res = await xrpc(SLOW_METHOD, { token: accessJwt })
    expect(res.status).toBe(504)
    expect(JSON.parse(res.text).error).toBe('UpstreamTimeout')
    expect(Date.now() - started).toBeLessThan(9_000)
  })

  it('refuses unauthenticated proxying', async () => {
    const res = await xrpc('app.bsky.feed.getTimeline')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBeTruthy()
    await expect(
      new AtpAgent({ service: pdsUrl }).app.bsky.feed.getTimeline(),
    ).rejects.toMatchObject({ status: 401 })
  })
})

describe('atproto-proxy', () => {
  it('routes to a second service named by its did:web and service id', async () => {
    const { agent, did } = await newAccount('pxhdr')
    const before = second.received.length
    const proxied = agent.withProxy('atproto_labeler', second.did)
    const res = await proxied.app.bsky.feed.getTimeline({ limit: 5 })
    const received = (res.data as unknown as { received: ReceivedRequest }).received
    expect(second.received.length).toBe(before + 1)
    expect(received.query).toEqual({ limit: '5' })
    expect(received.headers['atproto-proxy']).toBeUndefined()
    await verifyServiceToken(received, {
      iss: did,
      aud: `${second.did}#atproto_labeler`,
      lxm: 'app.bsky.feed.getTimeline',
    })
  })

  it('answers 502 UpstreamFailure when the named service is down', async () => {
    const { accessJwt } = await newAccount('pxdown')
    const res = await xrpc('app.bsky.feed.getTimeline', {
      token: accessJwt,
      headers: { 'atproto-proxy': `${second.did}#dead` },
    })
    expect(res.status).toBe(502)
    expect(JSON.parse(res.text)).toMatchObject({ error: 'UpstreamFailure' })
  })

  it('answers a JSON 502 to a large body when the named service is down', async () => {
    const { accessJwt } = await newAccount('pxdownbig')
    for (const size of [50_000, 5_000_000, 9_000_000]) {
      const res = await fetch(new URL('/xrpc/app.bsky.graph.muteActor', pdsUrl), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessJwt}`,
          'content-type': 'application/json',
          'atproto-proxy': `${second.did}#dead`,
        },
        body: JSON.stringify({ actor: 'x'.repeat(size) }),
      })
      expect(res.status).toBe(502)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect(await res.json()).toMatchObject({ error: 'UpstreamFailure' })
    }
  })

  it('refuses a service on a private or link-local address, even in development', async () => {
    const { accessJwt } = await newAccount('pxpriv')
    for (const id of ['private', 'metadata']) {
      const started = Date.now()
      const res = await xrpc('app.bsky.feed.getTimeline', {
        token: accessJwt,
        headers: { 'atproto-proxy': `${second.did}#${id}` },
      })
      expect(res.status, id).toBe(400)
      expect(JSON.parse(res.text)).toMatchObject({ error: 'InvalidRequest' })
      // Refused before any connection attempt (an unroutable address would hang until the deadline).
      expect(Date.now() - started).toBeLessThan(2_000)
    }
  })

  it('answers 400 for a service the DID document does not have', async () => {
    const { accessJwt } = await newAccount('pxnosvc')
    const res = await xrpc('app.bsky.feed.getTimeline', {
      token: accessJwt,
      headers: { 'atproto-proxy': `${second.did}#bsky_appview` },
    })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.text).error).toBe('InvalidRequest')
  })
})

describe('getFeed', () => {
  it('resolves the generator and forwards with the generator as audience', async () => {
    const { agent, did } = await newAccount('pxfeed')
    const created = await agent.com.atproto.repo.createRecord({
      repo: did,
      collection: 'app.bsky.feed.generator',
      rkey: 'stand-in',
      record: {
        $type: 'app.bsky.feed.generator',
        did: second.did,
        displayName: 'Stand-in feed',
        createdAt: new Date().toISOString(),
      },
    })
    const res = await agent.app.bsky.feed.getFeed({ feed: created.data.uri, limit: 3 })
    expect(res.data.feed).toEqual([])
    const received = (res.data as unknown as { received: ReceivedRequest }).received
    expect(received.query).toEqual({ feed: created.data.uri, limit: '3' })
    await verifyServiceToken(received, {
      iss: did,
      aud: second.did,
      lxm: 'app.bsky.feed.getFeedSkeleton',
    })
  })
})
