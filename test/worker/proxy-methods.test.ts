/**
 * The methods around proxying that we serve ourselves: getFeed (forwarded with the feed
 * generator as audience), getServiceAuth, and the identity helpers resolveDid/resolveIdentity.
 */
import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { accessStandardOrServiceAuth } from '../../src/api/auth-verifiers.ts'
import { getConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'
import {
  didWebDocument,
  fakeUpstreams,
  json,
  type UpstreamCall,
  verifyForwardedToken,
} from './proxy-upstreams.ts'

const APPVIEW = 'https://api.bsky.app'

afterEach(() => {
  vi.restoreAllMocks()
})

function generatorRecord(did: string) {
  return {
    $type: 'app.bsky.feed.generator',
    did,
    displayName: 'Cats',
    createdAt: new Date().toISOString(),
  }
}

async function createGenerator(account: TestAccount, rkey: string, did: string): Promise<string> {
  const res = await xrpcPost<{ uri: string }>(
    'com.atproto.repo.createRecord',
    {
      repo: account.did,
      collection: 'app.bsky.feed.generator',
      rkey,
      record: generatorRecord(did),
    },
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return res.body.uri
}

const feedgenDoc = didWebDocument(
  'feedgen.example',
  'bsky_fg',
  'BskyFeedGenerator',
  'https://feedgen.example',
)

describe('app.bsky.feed.getFeed', () => {
  it('forwards to the AppView with a getFeedSkeleton token for the feed generator', async () => {
    const calls = fakeUpstreams({
      'https://feedgen.example': () => json(feedgenDoc),
      [APPVIEW]: () => json({ feed: [] }),
    })
    const alice = await createTestAccount('feedlocal')
    const uri = await createGenerator(alice, 'cats', 'did:web:feedgen.example')
    const res = await xrpcGet('app.bsky.feed.getFeed', { feed: uri, limit: 10 }, alice.accessJwt)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ feed: [] })
    const forwarded = calls.find((c) => c.url.origin === APPVIEW) as UpstreamCall
    expect(forwarded.url.pathname).toBe('/xrpc/app.bsky.feed.getFeed')
    expect(forwarded.url.searchParams.get('feed')).toBe(uri)
    expect(forwarded.url.searchParams.get('limit')).toBe('10')
    const claims = await verifyForwardedToken(forwarded, {
      aud: 'did:web:feedgen.example',
      lxm: 'app.bsky.feed.getFeedSkeleton',
    })
    expect(claims.iss).toBe(alice.did)
  })

  it('reads the generator record from the creator’s own PDS', async () => {
    const creatorDoc = didWebDocument(
      'creator.example',
      'atproto_pds',
      'AtprotoPersonalDataServer',
      'https://pds.creator.example',
    )
    const calls = fakeUpstreams({
      'https://creator.example': () => json(creatorDoc),
      'https://pds.creator.example': (req) => {
        const url = new URL(req.url)
        if (url.searchParams.get('rkey') !== 'dogs') {
          return json({ error: 'RecordNotFound' }, { status: 400 })
        }
        return json({
          uri: 'at://did:web:creator.example/app.bsky.feed.generator/dogs',
          value: generatorRecord('did:web:feedgen.example'),
        })
      },
      'https://feedgen.example': () => json(feedgenDoc),
      [APPVIEW]: () => json({ feed: [] }),
    })
    const alice = await createTestAccount('feedremote')
    const feed = 'at://did:web:creator.example/app.bsky.feed.generator/dogs'
    const res = await xrpcGet('app.bsky.feed.getFeed', { feed }, alice.accessJwt)
    expect(res.status).toBe(200)
    await verifyForwardedToken(calls.find((c) => c.url.origin === APPVIEW)!, {
      aud: 'did:web:feedgen.example',
      lxm: 'app.bsky.feed.getFeedSkeleton',
    })
    const missing = await xrpcGet(
      'app.bsky.feed.getFeed',
      { feed: 'at://did:web:creator.example/app.bsky.feed.generator/birds' },
      alice.accessJwt,
    )
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('UnknownFeed')
  })

  it('answers UnknownFeed for feeds that do not lead to a generator service', async () => {
    const calls = fakeUpstreams({
      'https://nofg.example': () =>
        json(didWebDocument('nofg.example', 'other', 'Other', 'https://nofg.example')),
      [APPVIEW]: () => json({ feed: [] }),
    })
    const alice = await createTestAccount('feedunknown')
    const noService = await createGenerator(alice, 'nofg', 'did:web:nofg.example')
    const feeds = [
      noService,
      `at://${alice.did}/app.bsky.feed.generator/missing`,
      `at://${alice.did}/app.bsky.feed.post/3kabc`,
    ]
    for (const feed of feeds) {
      const res = await xrpcGet('app.bsky.feed.getFeed', { feed }, alice.accessJwt)
      expect(res.status, feed).toBe(400)
      expect(res.body.error, feed).toBe('UnknownFeed')
    }
    expect(calls.some((c) => c.url.origin === APPVIEW)).toBe(false)
  })

  it('needs a session', async () => {
    const res = await xrpcGet('app.bsky.feed.getFeed', {
      feed: 'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.generator/whats-hot',
    })
    expect(res.status).toBe(401)
  })
})

interface TokenBody {
  token: string
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1]!
  const text = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
  return JSON.parse(text) as Record<string, unknown>
}

describe('com.atproto.server.getServiceAuth', () => {
  it('signs a token for the requested audience and method', async () => {
    const alice = await createTestAccount('svcauth')
    const aud = 'did:web:video.bsky.app#bsky_video'
    const res = await xrpcGet<TokenBody>(
      'com.atproto.server.getServiceAuth',
      { aud, lxm: 'app.bsky.video.getUploadLimits' },
      alice.accessJwt,
    )
    expect(res.status).toBe(200)
    const claims = await verifyForwardedToken(
      { headers: new Headers({ authorization: `Bearer ${res.body.token}` }) } as UpstreamCall,
      { aud, lxm: 'app.bsky.video.getUploadLimits' },
    )
    expect(claims.iss).toBe(alice.did)
    expect(claims.exp - (claims.iat ?? 0)).toBe(60)
    expect(claims.jti).toBeTruthy()
  })

  it('honours exp within the limits', async () => {
    const alice = await createTestAccount('svcexp')
    const now = Math.floor(Date.now() / 1000)
    const ok = await xrpcGet<TokenBody>(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:example.com', lxm: 'com.atproto.repo.uploadBlob', exp: now + 1800 },
      alice.accessJwt,
    )
    expect(ok.status).toBe(200)
    expect(claimsOf(ok.body.token).exp).toBe(now + 1800)

    const methodless = await xrpcGet<TokenBody>(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:example.com' },
      alice.accessJwt,
    )
    expect(methodless.status).toBe(200)
    expect(claimsOf(methodless.body.token).lxm).toBeUndefined()

    const refused: Array<Record<string, string | number>> = [
      { lxm: 'com.atproto.repo.uploadBlob', exp: now + 3600 + 120 },
      { lxm: 'com.atproto.repo.uploadBlob', exp: now - 10 },
      { exp: now + 120 },
    ]
    for (const params of refused) {
      const res = await xrpcGet(
        'com.atproto.server.getServiceAuth',
        { aud: 'did:web:example.com', ...params },
        alice.accessJwt,
      )
      expect(res.status, JSON.stringify(params)).toBe(400)
      expect(res.body.error).toBe('BadExpiration')
    }
  })

  it('refuses account-management methods and bad audiences', async () => {
    const alice = await createTestAccount('svcprot')
    for (const lxm of [
      'com.atproto.server.createAppPassword',
      'com.atproto.identity.updateHandle',
      'com.atproto.server.deactivateAccount',
    ]) {
      const res = await xrpcGet(
        'com.atproto.server.getServiceAuth',
        { aud: 'did:web:example.com', lxm },
        alice.accessJwt,
      )
      expect(res.status, lxm).toBe(400)
      expect(String(res.body.message)).toContain('protected method')
    }
    // Migration: the new PDS's createAccount accepts a token from the old one.
    const migration = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:newpds.example', lxm: 'com.atproto.server.createAccount' },
      alice.accessJwt,
    )
    expect(migration.status).toBe(200)
    for (const aud of ['not-a-did', 'did:web:example.com#', 'did:web:example.com#a#b']) {
      const res = await xrpcGet('com.atproto.server.getServiceAuth', { aud }, alice.accessJwt)
      expect(res.status, aud).toBe(400)
    }
    expect(
      (await xrpcGet('com.atproto.server.getServiceAuth', { aud: 'did:web:x.com' })).status,
    ).toBe(401)
  })

  it('needs a full-access or privileged session for chat tokens', async () => {
    const alice = await createTestAccount('svcchat')
    const created = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'plain' },
      alice.accessJwt,
    )
    const session = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
      identifier: alice.did,
      password: created.body.password,
    })
    const params = { aud: 'did:web:api.bsky.chat#bsky_chat', lxm: 'chat.bsky.convo.listConvos' }
    const refused = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      params,
      session.body.accessJwt,
    )
    expect(refused.status).toBe(400)
    expect(String(refused.body.message)).toContain('insufficient access')
    const full = await xrpcGet('com.atproto.server.getServiceAuth', params, alice.accessJwt)
    expect(full.status).toBe(200)

    // createAccount (what a new PDS accepts to import the identity) needs the account password's
    // own session: no app password, privileged or not (issue #13 item 3).
    const migration = { aud: 'did:web:newpds.example', lxm: 'com.atproto.server.createAccount' }
    const appMigration = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      migration,
      session.body.accessJwt,
    )
    expect(appMigration.status).toBe(400)
    expect(String(appMigration.body.message)).toContain('insufficient access')
    const privileged = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'chat', privileged: true },
      alice.accessJwt,
    )
    const privilegedSession = await xrpcPost<{ accessJwt: string }>(
      'com.atproto.server.createSession',
      { identifier: alice.did, password: privileged.body.password },
    )
    const privilegedMigration = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      migration,
      privilegedSession.body.accessJwt,
    )
    expect(privilegedMigration.status).toBe(400)
    expect(String(privilegedMigration.body.message)).toContain('insufficient access')
    const fullMigration = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      migration,
      alice.accessJwt,
    )
    expect(fullMigration.status).toBe(200)
  })

  it('gives tokens this PDS accepts where a method takes service auth (uploadBlob)', async () => {
    const alice = await createTestAccount('svcin')
    const config = getConfig(env)
    const lxm = 'com.atproto.repo.uploadBlob'
    const minted = await xrpcGet<TokenBody>(
      'com.atproto.server.getServiceAuth',
      { aud: config.serviceDid, lxm },
      alice.accessJwt,
    )
    const verify = (token: string, method = lxm) =>
      accessStandardOrServiceAuth(method)(
        new Request('http://localhost/', { headers: { authorization: `Bearer ${token}` } }),
        { env, config, db: getDb(env.DB) },
      )
    await expect(verify(minted.body.token, 'com.atproto.repo.createRecord')).rejects.toMatchObject({
      status: 401,
    })
    expect(await verify(minted.body.token)).toMatchObject({ kind: 'service', did: alice.did })
    // Each token works once.
    await expect(verify(minted.body.token)).rejects.toMatchObject({ status: 401 })
    const elsewhere = await xrpcGet<TokenBody>(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:other.example', lxm },
      alice.accessJwt,
    )
    await expect(verify(elsewhere.body.token)).rejects.toMatchObject({ status: 401 })
  })
})

describe('identity helpers', () => {
  it('resolveDid returns the DID document', async () => {
    const alice = await createTestAccount('resdid')
    const res = await xrpcGet<{ didDoc: { id: string; alsoKnownAs: string[] } }>(
      'com.atproto.identity.resolveDid',
      { did: alice.did },
    )
    expect(res.status).toBe(200)
    expect(res.body.didDoc.id).toBe(alice.did)
    expect(res.body.didDoc.alsoKnownAs).toEqual([`at://${alice.handle}`])

    const missing = await xrpcGet('com.atproto.identity.resolveDid', {
      did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
    })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('DidNotFound')
  })

  it('resolveIdentity verifies the handle both ways', async () => {
    const alice = await createTestAccount('resid')
    for (const identifier of [alice.handle, alice.did, alice.handle.toUpperCase()]) {
      const res = await xrpcGet<{ did: string; handle: string; didDoc: { id: string } }>(
        'com.atproto.identity.resolveIdentity',
        { identifier },
      )
      expect(res.status, identifier).toBe(200)
      expect(res.body.did).toBe(alice.did)
      expect(res.body.handle).toBe(alice.handle)
      expect(res.body.didDoc.id).toBe(alice.did)
    }
    const unknown = await xrpcGet('com.atproto.identity.resolveIdentity', {
      identifier: 'nobody-here.test',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toBe('HandleNotFound')
  })

  it('resolveIdentity answers handle.invalid for a claim that does not resolve back', async () => {
    fakeUpstreams({
      'https://impostor.example': () =>
        json({
          id: 'did:web:impostor.example',
          alsoKnownAs: ['at://someone-else.test'],
        }),
    })
    const res = await xrpcGet<{ did: string; handle: string }>(
      'com.atproto.identity.resolveIdentity',
      { identifier: 'did:web:impostor.example' },
    )
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ did: 'did:web:impostor.example', handle: 'handle.invalid' })
  })
})
