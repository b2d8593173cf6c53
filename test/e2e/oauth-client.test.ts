/**
 * A third-party app signs a user of our PDS in with the official OAuth client
 * (@atproto/oauth-client-node) as a loopback development client: through our real sign-in
 * and consent pages in headless Chromium, then reads and writes with the DPoP-bound session,
 * refreshes it, and revokes it.
 */
import { Agent } from '@atproto/api'
import {
  NodeOAuthClient,
  type NodeSavedSession,
  type NodeSavedState,
  requestLocalLock,
} from '@atproto/oauth-client-node'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { approveInBrowser, launchBrowser } from './oauth/browser.ts'
import { MemoryStore } from './oauth/memory-store.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const SCOPE = 'atproto transition:generic'
const REDIRECT = 'http://127.0.0.1:7777/callback'

let browser: Browser
let alice: TestAccount

beforeAll(async () => {
  browser = await launchBrowser()
  alice = await createTestAccount(pdsUrl, 'oauth')
})
afterAll(async () => {
  await browser?.close()
})

function loopbackClient(sessions = new MemoryStore<NodeSavedSession>()) {
  const clientId = `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope: SCOPE })}`
  return {
    sessions,
    client: new NodeOAuthClient({
      clientMetadata: {
        client_id: clientId,
        redirect_uris: [REDIRECT],
        scope: SCOPE,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        dpop_bound_access_tokens: true,
      },
      stateStore: new MemoryStore<NodeSavedState>(),
      sessionStore: sessions,
      allowHttp: true,
      requestLock: requestLocalLock,
      handleResolver: pdsUrl,
      plcDirectoryUrl: plcUrl,
    }),
  }
}

describe('OAuth with @atproto/oauth-client-node (loopback client)', () => {
  it('signs in through our pages, writes and reads, refreshes, and revokes', async () => {
    const { client, sessions } = loopbackClient()
    const authorizeUrl = await client.authorize(alice.handle, { scope: SCOPE })
    expect(authorizeUrl.origin).toBe(pdsUrl)
    const redirect = await approveInBrowser(browser, authorizeUrl.href, {
      identifier: alice.handle,
      password: PASSWORD,
      redirectPrefix: REDIRECT,
      screenshots: 'oauth-loopback',
    })
    expect(redirect.searchParams.get('iss')).toBe(pdsUrl)
    const { session } = await client.callback(redirect.searchParams)
    expect(session.did).toBe(alice.did)

    const agent = new Agent(session)
    const me = await agent.com.atproto.server.getSession()
    expect(me.data).toMatchObject({ did: alice.did, handle: alice.handle })
    // transition:email was not granted: the address stays hidden.
    expect(me.data.email).toBeUndefined()

    const created = await agent.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'hello over OAuth',
        createdAt: new Date().toISOString(),
      },
    })
    const rkey = created.data.uri.split('/').pop()!
    const read = await agent.com.atproto.repo.getRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey,
    })
    expect(read.data.value).toMatchObject({ text: 'hello over OAuth' })

    const before = sessions.map.get(alice.did)!.tokenSet
    expect(before.scope).toBe(SCOPE)
    expect(before.token_type).toBe('DPoP')
    const info = await session.getTokenInfo(true)
    expect(info.sub).toBe(alice.did)
    const after = sessions.map.get(alice.did)!.tokenSet
    expect(after.refresh_token).not.toBe(before.refresh_token)
    expect(after.access_token).not.toBe(before.access_token)
    expect((await agent.com.atproto.server.getSession()).data.did).toBe(alice.did)

    const saved = sessions.map.get(alice.did)!
    await session.signOut()
    // The tokens the app held before signing out no longer work, access or refresh.
    sessions.map.set(alice.did, saved)
    const restored = await client.restore(alice.did, false)
    await expect(new Agent(restored).com.atproto.server.getSession()).rejects.toThrow()
  })
})
