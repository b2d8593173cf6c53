/**
 * A confidential client (private_key_jwt): its metadata document and keys are served from a
 * loopback stand-in host (which the PDS fetches only in development mode). It signs a user in
 * through the pages in Chromium, reads and writes with its DPoP-bound token, refreshes and
 * revokes; its assertions must be fresh, for us, signed by a key it published, and used once.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { approveInBrowser, launchBrowser } from './oauth/browser.ts'
import { type ClientHost, startClientHost } from './oauth/client-host.ts'
import {
  type ClientSigningKey,
  csrfOf,
  newClientSigningKey,
  RawOAuthClient,
} from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const SCOPE = 'atproto transition:generic'

let browser: Browser
let host: ClientHost
let key: ClientSigningKey
let user: TestAccount

beforeAll(async () => {
  browser = await launchBrowser()
  key = await newClientSigningKey('key-1')
  host = await startClientHost(key)
  user = await createTestAccount(pdsUrl, 'oauthconf')
})
afterAll(async () => {
  await browser?.close()
  await host?.close()
})

const confidential = (clientId = host.confidentialId, signingKey = key) =>
  RawOAuthClient.create({
    pdsUrl,
    clientId,
    redirectUri: host.redirectUri,
    scope: SCOPE,
    signingKey,
  })

describe('a confidential client (private_key_jwt)', () => {
  it('signs in through the pages, writes and reads, refreshes, and revokes', async () => {
    const client = await confidential()
    const request = await client.par()
    expect(request.res.status).toBe(201)
    const authorizeUrl = `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: host.confidentialId, request_uri: request.requestUri })}`
    const redirect = await approveInBrowser(browser, authorizeUrl, {
      identifier: user.email,
      password: PASSWORD,
      redirectPrefix: host.redirectUri,
      screenshots: 'oauth-confidential',
    })
    expect(redirect.searchParams.get('iss')).toBe(pdsUrl)
    expect(redirect.searchParams.get('state')).toBe(request.state)
    const res = await client.token({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      code_verifier: request.verifier,
      redirect_uri: host.redirectUri,
    })
    expect(res.status).toBe(200)
    const tokens = await res.json()
    expect(tokens).toMatchObject({ token_type: 'DPoP', sub: user.did, scope: SCOPE })

    const me = await client.xrpc('com.atproto.server.getSession', tokens.access_token)
    expect(await me.json()).toMatchObject({ did: user.did, handle: user.handle })
    const created = await client.xrpc('com.atproto.repo.createRecord', tokens.access_token, {
      method: 'POST',
      body: {
        repo: user.did,
        collection: 'app.bsky.feed.post',
        record: {
          $type: 'app.bsky.feed.post',
          text: 'from a confidential client',
          createdAt: new Date().toISOString(),
        },
      },
    })
    expect(created.status).toBe(200)
    const { uri } = await created.json()
    const read = await client.xrpc('com.atproto.repo.getRecord', tokens.access_token, {
      params: { repo: user.did, collection: 'app.bsky.feed.post', rkey: uri.split('/').pop() },
    })
    expect((await read.json()).value.text).toBe('from a confidential client')

    const refreshed = await client.token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    })
    expect(refreshed.status).toBe(200)
    const next = await refreshed.json()
    expect(next.refresh_token).not.toBe(tokens.refresh_token)
    expect((await client.xrpc('com.atproto.server.getSession', next.access_token)).status).toBe(200)

    const revoked = await client.post('/oauth/revoke', {
      client_id: host.confidentialId,
      token: next.access_token,
    })
    expect(revoked.status).toBe(200)
    expect((await client.xrpc('com.atproto.server.getSession', next.access_token)).status).toBe(401)
    const afterRevoke = await client.token({
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token,
    })
    expect((await afterRevoke.json()).error).toBe('invalid_grant')
  })

  it('finds its keys at jwks_uri as well', async () => {
    const client = await confidential(host.jwksUriId)
    expect((await client.par()).res.status).toBe(201)
  })

  it('must authenticate: no assertion, a wrong audience, an unknown key, or a replayed jti are refused', async () => {
    const client = await confidential()
    const form = { client_id: host.confidentialId, response_type: 'code' }
    const withAssertion = (assertion: string) => ({
      ...form,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    })
    const noAssertion = await client.post('/oauth/par', form)
    expect((await noAssertion.json()).error).toBe('invalid_client')
    const wrongAud = await client.post(
      '/oauth/par',
      withAssertion(await client.clientAssertion({ aud: 'https://other.example' })),
    )
    expect((await wrongAud.json()).error).toBe('invalid_client')
    const stranger = await confidential(host.confidentialId, await newClientSigningKey('key-1'))
    expect((await (await stranger.par()).res.json()).error).toBe('invalid_client')
    const assertion = await client.clientAssertion({ jti: `fixed-${Date.now()}` })
    expect(
      (await (await client.post('/oauth/par', withAssertion(assertion))).json()).error,
    ).not.toBe('invalid_client')
    const replay = await client.post('/oauth/par', withAssertion(assertion))
    expect(await replay.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringContaining('jti'),
    })
  })

  it('remembers the account in the browser: the next request offers "Continue as"', async () => {
    const client = await confidential()
    const first = await client.par()
    const url = (requestUri: string) =>
      `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: host.confidentialId, request_uri: requestUri })}`
    const page = await fetch(url(first.requestUri))
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${pdsUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      })
    const csrf = csrfOf(await page.text())
    const signed = await post('/oauth/authorize/sign-in', {
      csrf,
      request_uri: first.requestUri,
      identifier: user.handle,
      password: PASSWORD,
    })
    expect(signed.status).toBe(303)

    const second = await client.par()
    const again = await (await fetch(url(second.requestUri), { headers: { cookie } })).text()
    expect(again).toContain('Continue as')
    expect(again).toContain(`@${user.handle}`)
    const selected = await post('/oauth/authorize/select', {
      csrf,
      request_uri: second.requestUri,
      did: user.did,
    })
    expect(selected.status).toBe(303)
    const consent = await (
      await fetch(new URL(selected.headers.get('location')!, pdsUrl), { headers: { cookie } })
    ).text()
    expect(consent).toContain('Allow access?')
    expect(consent).toContain('Confidential test app')
    // Another browser cannot pick an account it never signed in with.
    const third = await client.par()
    const other = await fetch(url(third.requestUri))
    const otherCookie = other.headers.get('set-cookie')!.split(';')[0]!
    const refused = await fetch(`${pdsUrl}/oauth/authorize/select`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: otherCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf: csrfOf(await other.text()),
        request_uri: third.requestUri,
        did: user.did,
      }),
    })
    expect(refused.status).toBe(401)
  })
})
