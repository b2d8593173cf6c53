/**
 * Scopes with real OAuth tokens: the access-token verifier and the dispatcher's authorize step
 * together, end to end. `atproto` alone cannot write; a `repo:` scope for posts can post but
 * not like; no OAuth token may do what only the account password's session may.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { RawOAuthClient } from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const REDIRECT = 'http://127.0.0.1:7780/cb'

let user: TestAccount

beforeAll(async () => {
  user = await createTestAccount(pdsUrl, 'oauthscope')
})

async function sessionWith(scope: string, granted = scope) {
  const client = await RawOAuthClient.create({
    pdsUrl,
    clientId: `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope })}`,
    redirectUri: REDIRECT,
    scope,
  })
  const { tokens } = await client.signIn(user.handle, PASSWORD)
  expect(tokens.scope).toBe(granted)
  return { client, access: tokens.access_token as string }
}

const record = (collection: string, value: Record<string, unknown>) => ({
  method: 'POST' as const,
  body: {
    repo: user.did,
    collection,
    record: { $type: collection, createdAt: new Date().toISOString(), ...value },
  },
})

describe('OAuth scopes with real tokens', () => {
  it('atproto alone reads its session but cannot write', async () => {
    const { client, access } = await sessionWith('atproto')
    expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(200)
    const res = await client.xrpc(
      'com.atproto.repo.createRecord',
      access,
      record('app.bsky.feed.post', { text: 'no' }),
    )
    expect(res.status).toBe(403)
    expect((await res.json()).error).toBe('ScopeMissingError')
  })

  it('a repo scope for posts can post but not like', async () => {
    const { client, access } = await sessionWith('atproto repo:app.bsky.feed.post?action=create')
    const post = await client.xrpc(
      'com.atproto.repo.createRecord',
      access,
      record('app.bsky.feed.post', { text: 'allowed' }),
    )
    expect(post.status).toBe(200)
    const { uri, cid } = await post.json()
    const like = await client.xrpc(
      'com.atproto.repo.createRecord',
      access,
      record('app.bsky.feed.like', { subject: { uri, cid } }),
    )
    expect(like.status).toBe(403)
  })

  it('no OAuth token may create an app password (password sessions only)', async () => {
    const { client, access } = await sessionWith('atproto transition:generic')
    const res = await client.xrpc('com.atproto.server.createAppPassword', access, {
      method: 'POST',
      body: { name: 'from oauth' },
    })
    expect(res.status).toBe(403)
  })

  it('drops a scope token it does not know instead of failing the login', async () => {
    const { client, access } = await sessionWith(
      'atproto transition:generic frobnicate:everything',
      'atproto transition:generic',
    )
    expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(200)
  })
})
