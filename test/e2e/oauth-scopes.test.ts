/**
 * OAuth scopes end to end, with real OAuth access tokens: PAR, our sign-in and consent pages
 * (plain form posts), the token endpoint, DPoP-bound requests to `npm run dev`. A session
 * with `atproto` alone cannot write; one with `repo:app.bsky.feed.post?action=create` can post
 * but not like; an `rpc:` scope limits proxied calls (and service-auth tokens) to its method
 * and its service.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { accessTokenHash, dpopProof, RawOAuthClient } from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const appViewUrl = inject('appViewUrl')
const appViewDid = `did:web:localhost%3A${new URL(appViewUrl).port}`
const REDIRECT = 'http://127.0.0.1:7777/callback'

/** An `aud` as the canonical scope string writes it (`:` as is, `#` and `%` escaped). */
const audParam = (aud: string) => encodeURIComponent(aud).replace(/%3A/g, ':')

let alice: TestAccount

beforeAll(async () => {
  alice = await createTestAccount(pdsUrl, 'scopes')
})

interface Session {
  client: RawOAuthClient
  accessToken: string
}

/** Signs alice in with a loopback client that asks for `scope`; the tokens it is granted. */
async function signIn(scope: string): Promise<Session> {
  const clientId = `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope })}`
  const client = await RawOAuthClient.create({ pdsUrl, clientId, redirectUri: REDIRECT, scope })
  const { res, tokens } = await client.signIn(alice.handle, PASSWORD)
  expect(res.status, JSON.stringify(tokens)).toBe(200)
  expect(tokens.scope).toBe(scope)
  return { client, accessToken: tokens.access_token }
}

/** A DPoP resource request with extra headers (`atproto-proxy`), retrying once for a nonce. */
async function xrpcWithHeaders(
  { client, accessToken }: Session,
  nsid: string,
  params: Record<string, string>,
  headers: Record<string, string>,
): Promise<Response> {
  const url = `${pdsUrl}/xrpc/${nsid}?${new URLSearchParams(params)}`
  const send = async () => {
    const proof = await dpopProof(client.dpop, 'GET', url, {
      nonce: client.nonce,
      ath: accessTokenHash(accessToken),
    })
    const res = await fetch(url, {
      headers: { authorization: `DPoP ${accessToken}`, dpop: proof, ...headers },
    })
    client.nonce = res.headers.get('dpop-nonce') ?? client.nonce
    return res
  }
  const res = await send()
  if (res.status === 401 && res.headers.get('www-authenticate')?.includes('use_dpop_nonce')) {
    return send()
  }
  return res
}

async function expectMissing(res: Response, scope: string): Promise<void> {
  expect(res.status).toBe(403)
  expect(await res.json()).toEqual({
    error: 'ScopeMissingError',
    message: `Missing required scope "${scope}"`,
  })
}

function record(collection: string, extra: Record<string, unknown>) {
  return { $type: collection, createdAt: new Date().toISOString(), ...extra }
}

const post = () => ({
  repo: alice.did,
  collection: 'app.bsky.feed.post',
  record: record('app.bsky.feed.post', { text: 'posted with a granular scope' }),
})

const like = () => ({
  repo: alice.did,
  collection: 'app.bsky.feed.like',
  record: record('app.bsky.feed.like', {
    subject: {
      uri: `at://${alice.did}/app.bsky.feed.post/3jzfcijpj2z2a`,
      cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
    },
  }),
})

describe('OAuth scopes with real access tokens', () => {
  it('atproto alone cannot write, but reads the session', async () => {
    const session = await signIn('atproto')
    const me = await session.client.xrpc('com.atproto.server.getSession', session.accessToken)
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ did: alice.did })
    const write = await session.client.xrpc('com.atproto.repo.createRecord', session.accessToken, {
      method: 'POST',
      body: post(),
    })
    await expectMissing(write, 'repo:app.bsky.feed.post?action=create')
  })

  it('repo:app.bsky.feed.post?action=create can post but not like', async () => {
    const session = await signIn('atproto repo:app.bsky.feed.post?action=create')
    const posted = await session.client.xrpc('com.atproto.repo.createRecord', session.accessToken, {
      method: 'POST',
      body: post(),
    })
    expect(posted.status).toBe(200)
    const { uri } = (await posted.json()) as { uri: string }
    const read = await session.client.xrpc('com.atproto.repo.getRecord', session.accessToken, {
      params: { repo: alice.did, collection: 'app.bsky.feed.post', rkey: uri.split('/').pop()! },
    })
    expect(read.status).toBe(200)
    const liked = await session.client.xrpc('com.atproto.repo.createRecord', session.accessToken, {
      method: 'POST',
      body: like(),
    })
    await expectMissing(liked, 'repo:app.bsky.feed.like?action=create')
  })

  it('an rpc: scope limits proxied calls to its method and service', async () => {
    const aud = `${appViewDid}#bsky_appview`
    const session = await signIn(`atproto rpc:app.bsky.actor.getProfile?aud=${audParam(aud)}`)
    const profile = await session.client.xrpc('app.bsky.actor.getProfile', session.accessToken, {
      params: { actor: alice.did },
    })
    expect(profile.status).toBe(200)
    expect(await profile.json()).toMatchObject({ did: alice.did })
    await expectMissing(
      await session.client.xrpc('app.bsky.feed.getAuthorFeed', session.accessToken, {
        params: { actor: alice.did },
      }),
      `rpc:app.bsky.feed.getAuthorFeed?aud=${audParam(aud)}`,
    )
    const chatAud = `${appViewDid}#bsky_chat`
    await expectMissing(
      await xrpcWithHeaders(
        session,
        'app.bsky.actor.getProfile',
        { actor: alice.did },
        { 'atproto-proxy': chatAud },
      ),
      `rpc:app.bsky.actor.getProfile?aud=${audParam(chatAud)}`,
    )
    // A service-auth token the same: this method, this service only.
    const token = await session.client.xrpc(
      'com.atproto.server.getServiceAuth',
      session.accessToken,
      {
        params: { aud, lxm: 'app.bsky.actor.getProfile' },
      },
    )
    expect(token.status).toBe(200)
    await expectMissing(
      await session.client.xrpc('com.atproto.server.getServiceAuth', session.accessToken, {
        params: { aud: chatAud, lxm: 'app.bsky.actor.getProfile' },
      }),
      `rpc:app.bsky.actor.getProfile?aud=${audParam(chatAud)}`,
    )
  })
})
