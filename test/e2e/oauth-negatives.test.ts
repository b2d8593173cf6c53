/**
 * Every MUST of the atproto OAuth profile, refused when broken: DPoP (missing, stale nonce,
 * replayed, another key, Bearer downgrade, wrong htm/htu/ath/iat), PKCE (plain, reused
 * challenge), codes and refresh tokens used twice, unregistered redirects, client metadata
 * that redirects or is not JSON; plus the pages' CSRF, CSP and link-preview rules.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { type ClientHost, startClientHost } from './oauth/client-host.ts'
import {
  accessTokenHash,
  approveWithForms,
  b64url,
  csrfOf,
  dpopProof,
  newClientSigningKey,
  newDpopKey,
  RawOAuthClient,
} from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const REDIRECT = 'http://127.0.0.1:7778/cb'
const SCOPE = 'atproto transition:generic'
const clientId = `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope: SCOPE })}`

let user: TestAccount
let host: ClientHost

beforeAll(async () => {
  user = await createTestAccount(pdsUrl, 'oauthneg')
  host = await startClientHost(await newClientSigningKey('k1'))
})
afterAll(async () => {
  await host?.close()
})

const newClient = () =>
  RawOAuthClient.create({ pdsUrl, clientId, redirectUri: REDIRECT, scope: SCOPE })

async function signedIn() {
  const client = await newClient()
  const result = await client.signIn(user.handle, PASSWORD)
  expect(result.res.status).toBe(200)
  return { client, ...result, access: result.tokens.access_token as string }
}

async function errorOf(res: Response): Promise<string> {
  return (await res.json()).error
}

describe('DPoP at the authorization server', () => {
  it('refuses PAR without a DPoP proof', async () => {
    const client = await newClient()
    const res = await client.post('/oauth/par', { client_id: clientId }, { proof: null })
    expect(res.status).toBe(400)
    expect(await errorOf(res)).toBe('invalid_dpop_proof')
  })

  it('asks for a nonce with use_dpop_nonce, and refuses a wrong one', async () => {
    const client = await newClient()
    const url = `${pdsUrl}/oauth/par`
    for (const nonce of [null, 'not-a-nonce-we-gave']) {
      const res = await client.post(
        '/oauth/par',
        { client_id: clientId },
        { proof: await dpopProof(client.dpop, 'POST', url, { nonce }) },
      )
      expect(res.status).toBe(400)
      expect(await errorOf(res)).toBe('use_dpop_nonce')
      expect(res.headers.get('dpop-nonce')).toBeTruthy()
      expect(res.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"')
    }
  })

  it('refuses a replayed proof, and proofs for another method or URL, or too old', async () => {
    const client = await newClient()
    const first = await client.par()
    expect(first.res.status).toBe(201)
    const url = `${pdsUrl}/oauth/par`
    const proof = await dpopProof(client.dpop, 'POST', url, { nonce: client.nonce })
    const form = { client_id: clientId, response_type: 'code' }
    expect(await errorOf(await client.post('/oauth/par', form, { proof }))).not.toBe(
      'use_dpop_nonce',
    )
    const replay = await client.post('/oauth/par', form, { proof })
    expect(await replay.json()).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringContaining('jti'),
    })
    for (const opts of [
      { htm: 'GET' },
      { htu: `${pdsUrl}/oauth/token` },
      { iat: Math.floor(Date.now() / 1000) - 3600 },
    ]) {
      const bad = await dpopProof(client.dpop, 'POST', url, { nonce: client.nonce, ...opts })
      expect(await errorOf(await client.post('/oauth/par', form, { proof: bad }))).toBe(
        'invalid_dpop_proof',
      )
    }
  })

  it('refuses a token request with another DPoP key than PAR', async () => {
    const client = await newClient()
    const request = await client.par()
    const redirect = await approveWithForms(pdsUrl, clientId, request.requestUri, {
      identifier: user.handle,
      password: PASSWORD,
    })
    const res = await client.token(
      {
        grant_type: 'authorization_code',
        code: redirect.searchParams.get('code')!,
        code_verifier: request.verifier,
      },
      { key: await newDpopKey() },
    )
    expect(res.status).toBe(400)
    expect(await errorOf(res)).toBe('invalid_dpop_proof')
  })
})

describe('DPoP at the resource server', () => {
  it('works with the bound key and carries a nonce', async () => {
    const { client, access, tokens } = await signedIn()
    expect(tokens).toMatchObject({ token_type: 'DPoP', sub: user.did, scope: SCOPE })
    expect(tokens.expires_in).toBeLessThanOrEqual(30 * 60)
    const res = await client.xrpc('com.atproto.server.getSession', access)
    expect(res.status).toBe(200)
    expect(res.headers.get('dpop-nonce')).toBeTruthy()
    expect((await res.json()).did).toBe(user.did)
  })

  it('refuses a call without a proof, with a stale nonce, or with a replayed proof', async () => {
    const { client, access } = await signedIn()
    const url = `${pdsUrl}/xrpc/com.atproto.server.getSession`
    const noProof = await client.xrpc('com.atproto.server.getSession', access, { proof: null })
    expect(noProof.status).toBe(401)
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP /)

    const stale = await dpopProof(client.dpop, 'GET', url, {
      nonce: 'stale',
      ath: accessTokenHash(access),
    })
    const nonceRes = await client.xrpc('com.atproto.server.getSession', access, { proof: stale })
    expect(nonceRes.status).toBe(401)
    expect(nonceRes.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"')
    expect(nonceRes.headers.get('dpop-nonce')).toBeTruthy()

    const proof = await dpopProof(client.dpop, 'GET', url, {
      nonce: client.nonce,
      ath: accessTokenHash(access),
    })
    expect((await client.xrpc('com.atproto.server.getSession', access, { proof })).status).toBe(200)
    const replay = await client.xrpc('com.atproto.server.getSession', access, { proof })
    expect(replay.status).toBe(401)
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"')
  })

  it('refuses a proof without the token hash (ath) or for another URL', async () => {
    const { client, access } = await signedIn()
    const url = `${pdsUrl}/xrpc/com.atproto.server.getSession`
    for (const proof of [
      await dpopProof(client.dpop, 'GET', url, { nonce: client.nonce }),
      await dpopProof(client.dpop, 'GET', `${pdsUrl}/xrpc/com.atproto.repo.getRecord`, {
        nonce: client.nonce,
        ath: accessTokenHash(access),
      }),
    ]) {
      const res = await client.xrpc('com.atproto.server.getSession', access, { proof })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('invalid_dpop_proof')
    }
  })

  it('refuses the bound token as plain Bearer (downgrade)', async () => {
    const { access } = await signedIn()
    const res = await fetch(`${pdsUrl}/xrpc/com.atproto.server.getSession`, {
      headers: { authorization: `Bearer ${access}` },
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/)
  })

  it("refuses another key's proof", async () => {
    const { client, access } = await signedIn()
    const res = await client.xrpc('com.atproto.server.getSession', access, {
      key: await newDpopKey(),
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })
})

describe('PKCE, codes and refresh tokens', () => {
  it('refuses plain PKCE, a missing challenge, and a reused challenge', async () => {
    const client = await newClient()
    const plain = await client.par({ code_challenge_method: 'plain' })
    expect(plain.res.status).toBe(400)
    expect(await errorOf(plain.res)).toBe('invalid_request')
    const first = await client.par()
    expect(first.res.status).toBe(201)
    const missing = await client.par({ code_challenge: '' })
    expect(missing.res.status).toBe(400)
    const challenge = b64url(randomBytes(32))
    const again = await client.par({ code_challenge: challenge })
    expect(again.res.status).toBe(201)
    const reused = await client.par({ code_challenge: challenge })
    expect(reused.res.status).toBe(400)
    expect((await reused.res.json()).error_description).toContain('already been used')
  })

  it('refuses a wrong code_verifier', async () => {
    const client = await newClient()
    const request = await client.par()
    const redirect = await approveWithForms(pdsUrl, clientId, request.requestUri, {
      identifier: user.handle,
      password: PASSWORD,
    })
    const res = await client.token({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      code_verifier: 'x'.repeat(43),
    })
    expect(res.status).toBe(400)
    expect(await errorOf(res)).toBe('invalid_grant')
  })

  it('refuses a replayed code, and ends the session it opened', async () => {
    const { client, code, request, access } = await signedIn()
    const replay = await client.token({
      grant_type: 'authorization_code',
      code,
      code_verifier: request.verifier,
    })
    expect(replay.status).toBe(400)
    expect(await errorOf(replay)).toBe('invalid_grant')
    expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(401)
  })

  it('rotates refresh tokens once: a replayed one is refused and ends the session', async () => {
    const { client, tokens } = await signedIn()
    const first = await client.token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    })
    expect(first.status).toBe(200)
    const rotated = await first.json()
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token)
    expect(rotated).toMatchObject({ sub: user.did, scope: SCOPE, token_type: 'DPoP' })
    const replay = await client.token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    })
    expect(replay.status).toBe(400)
    expect(await errorOf(replay)).toBe('invalid_grant')
    // The session is over for whoever holds it: the rotated token and its access token too.
    const next = await client.token({
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
    })
    expect(await errorOf(next)).toBe('invalid_grant')
    expect((await client.xrpc('com.atproto.server.getSession', rotated.access_token)).status).toBe(
      401,
    )
  })

  it('revokes at once: the access token stops working', async () => {
    const { client, access, tokens } = await signedIn()
    const res = await client.post('/oauth/revoke', {
      client_id: clientId,
      token: tokens.refresh_token,
    })
    expect(res.status).toBe(200)
    expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(401)
  })
})

describe('clients and redirects', () => {
  it('refuses a redirect_uri the client did not register', async () => {
    const client = await newClient()
    const res = await client.par({ redirect_uri: 'http://127.0.0.1:7778/elsewhere' })
    expect(res.res.status).toBe(400)
    expect((await res.res.json()).error_description).toContain('redirect_uri')
    const evil = await client.par({ redirect_uri: 'https://evil.example/cb' })
    expect(evil.res.status).toBe(400)
  })

  it('accepts a registered loopback redirect on another port (RFC 8252)', async () => {
    const client = await newClient()
    expect((await client.par({ redirect_uri: 'http://127.0.0.1:9999/cb' })).res.status).toBe(201)
  })

  it('refuses a client_id whose document redirects or is not JSON', async () => {
    for (const id of [host.redirectingId, host.htmlId]) {
      const client = await RawOAuthClient.create({
        pdsUrl,
        clientId: id,
        redirectUri: host.redirectUri,
        scope: SCOPE,
      })
      const res = await client.par()
      expect(res.res.status).toBe(400)
      expect(await errorOf(res.res)).toBe('invalid_client_metadata')
    }
  })

  it('refuses a scope the client did not declare, and requires atproto', async () => {
    const client = await newClient()
    expect(await errorOf((await client.par({ scope: 'atproto transition:chat.bsky' })).res)).toBe(
      'invalid_scope',
    )
    expect(await errorOf((await client.par({ scope: 'transition:generic' })).res)).toBe(
      'invalid_scope',
    )
  })

  it('answers with iss and state, in the query by default; a denial says access_denied', async () => {
    const client = await newClient()
    const request = await client.par()
    const denied = await approveWithForms(pdsUrl, clientId, request.requestUri, {
      identifier: user.handle,
      password: PASSWORD,
      decision: 'deny',
    })
    expect(denied.origin + denied.pathname).toBe(REDIRECT)
    expect(Object.fromEntries(denied.searchParams)).toMatchObject({
      error: 'access_denied',
      state: request.state,
      iss: pdsUrl,
    })
  })
})

describe('the pages', () => {
  it('serve a strict CSP, no framing, no caching', async () => {
    const client = await newClient()
    const { requestUri } = await client.par()
    const res = await fetch(
      `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`,
    )
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("form-action 'self' http://127.0.0.1:7778")
    expect(csp).not.toContain('script-src')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.text()).not.toContain('<script')
  })

  it('let link previewers look without consuming the request', async () => {
    const client = await newClient()
    const { requestUri } = await client.par()
    const url = `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`
    for (const agent of [
      'Slackbot-LinkExpanding 1.0',
      'Mozilla/5.0 (compatible; Discordbot/2.0)',
      'facebookexternalhit/1.1',
    ]) {
      const preview = await fetch(url, { headers: { 'user-agent': agent } })
      expect(preview.status).toBe(200)
      expect(preview.headers.get('set-cookie')).toBeNull()
    }
    const redirect = await approveWithForms(pdsUrl, clientId, requestUri, {
      identifier: user.handle,
      password: PASSWORD,
    })
    expect(redirect.searchParams.get('code')).toBeTruthy()
  })

  it('keep a request to the browser that opened it, and refuse posts without the CSRF token', async () => {
    const client = await newClient()
    const { requestUri } = await client.par()
    const url = `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`
    const first = await fetch(url)
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    const csrf = csrfOf(await first.text())
    // Another browser (no cookie) cannot pick it up.
    expect((await fetch(url)).status).toBe(400)
    const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${pdsUrl}/oauth/authorize/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          request_uri: requestUri,
          identifier: user.handle,
          password: PASSWORD,
          ...form,
        }),
      })
    expect((await post({})).status).toBe(403)
    expect((await post({ csrf: 'forged' })).status).toBe(403)
    expect((await post({ csrf }, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post({ csrf, password: 'wrong password' })).status).toBe(401)
    expect((await post({ csrf })).status).toBe(303)
  })
})
