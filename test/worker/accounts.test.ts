/**
 * Accounts, sessions and handles through the Worker, against the real local PLC directory.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import {
  createTestAccount,
  type TestAccount,
  uniqueHandle,
  xrpcGet,
  xrpcPost,
} from './helpers/xrpc.ts'

const plcUrl = inject('plcUrl')

async function plcDocument(did: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${plcUrl}/${did}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe('createAccount', () => {
  it('creates a did:plc in the directory that names this PDS and the account key', async () => {
    const account = await createTestAccount('alice')
    expect(account.did).toMatch(/^did:plc:[a-z2-7]{24}$/)
    const doc = (await plcDocument(account.did)) as {
      alsoKnownAs: string[]
      service: Array<{ id: string; type: string; serviceEndpoint: string }>
      verificationMethod: Array<{ id: string; publicKeyMultibase: string }>
    }
    expect(doc.alsoKnownAs).toEqual([`at://${account.handle}`])
    expect(doc.service).toContainEqual(
      expect.objectContaining({
        type: 'AtprotoPersonalDataServer',
        serviceEndpoint: 'http://localhost:2583',
      }),
    )
    expect([`${account.did}#atproto`, '#atproto']).toContain(doc.verificationMethod[0]?.id)
    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.status).toBe(200)
    expect(session.body).toMatchObject({
      did: account.did,
      handle: account.handle,
      email: account.email,
      active: true,
    })
  })

  it('puts the recovery key first in the rotation keys', async () => {
    const recoveryKey = 'did:key:zQ3shokaHAKwpyD5M387XUn4baNCBYt2gvF9cc81vQo6HwQUm'
    const res = await xrpcPost<TestAccount>('com.atproto.server.createAccount', {
      handle: uniqueHandle('recov'),
      email: `${crypto.randomUUID()}@example.com`,
      password: 'correct horse battery',
      recoveryKey,
    })
    expect(res.status).toBe(200)
    const data = (await (await fetch(`${plcUrl}/${res.body.did}/data`)).json()) as {
      rotationKeys: string[]
    }
    expect(data.rotationKeys[0]).toBe(recoveryKey)
    expect(data.rotationKeys).toHaveLength(2)
  })

  it.each([
    ['an invalid handle', { handle: 'not a handle' }, 400, 'InvalidRequest'],
    ['a handle on another domain', { handle: 'someone.example.com' }, 400, 'UnsupportedDomain'],
    ['a too-short handle', { handle: 'ab.test' }, 400, 'InvalidHandle'],
    ['a reserved TLD', { handle: 'alice.local' }, 400, 'InvalidHandle'],
    ['a bad email', { email: 'nope' }, 400, 'InvalidEmail'],
    ['a short password', { password: 'short' }, 400, 'InvalidPassword'],
    ['no password', { password: undefined }, 400, 'InvalidPassword'],
    ['a malformed recovery key', { recoveryKey: 'did:key:zzzz' }, 400, 'InvalidRequest'],
    ['a recovery key that is no did:key', { recoveryKey: 'did:plc:abc' }, 400, 'InvalidRequest'],
    [
      'a recovery key off the curve',
      { recoveryKey: 'did:key:zQ3shokaHAKwpyD5M387XUn4baNCBYt2gvF9cc81vQo6HwQU1' },
      400,
      'InvalidRequest',
    ],
  ])('rejects %s', async (_label, override, status, error) => {
    const res = await xrpcPost('com.atproto.server.createAccount', {
      handle: uniqueHandle('bad'),
      email: `${crypto.randomUUID()}@example.com`,
      password: 'correct horse battery',
      ...override,
    })
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ error, message: expect.any(String) })
  })

  it('refuses a taken handle and a taken email, changing nothing', async () => {
    const existing = await createTestAccount('taken')
    const sameHandle = await xrpcPost('com.atproto.server.createAccount', {
      handle: existing.handle,
      email: `${crypto.randomUUID()}@example.com`,
      password: 'correct horse battery',
    })
    expect(sameHandle.status).toBe(400)
    expect(sameHandle.body).toMatchObject({ error: 'HandleNotAvailable' })
    const sameEmail = await xrpcPost('com.atproto.server.createAccount', {
      handle: uniqueHandle('other'),
      email: existing.email,
      password: 'correct horse battery',
    })
    expect(sameEmail.status).toBe(400)
    const resolved = await xrpcGet('com.atproto.identity.resolveHandle', {
      handle: existing.handle,
    })
    expect(resolved.body).toEqual({ did: existing.did })
  })
})

describe('sessions', () => {
  it('logs in by handle, by email and by DID; refuses a wrong password', async () => {
    const account = await createTestAccount('login')
    for (const identifier of [account.handle, account.email, account.did]) {
      const res = await xrpcPost('com.atproto.server.createSession', {
        identifier,
        password: account.password,
      })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ did: account.did, handle: account.handle })
    }
    const wrong = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: 'wrong password',
    })
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ error: 'AuthenticationRequired' })
    const unknown = await xrpcPost('com.atproto.server.createSession', {
      identifier: 'nobody.test',
      password: 'wrong password',
    })
    expect(unknown.status).toBe(401)
    expect(unknown.body).toEqual(wrong.body)
  })

  it('rotates refresh tokens; a used one works again only within its grace', async () => {
    const account = await createTestAccount('refresh')
    const refresh = (token: string) =>
      xrpcPost<TestAccount>('com.atproto.server.refreshSession', undefined, token)
    const jtiOf = (jwt: string) =>
      (
        JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as {
          jti: string
        }
      ).jti
    const first = await refresh(account.refreshJwt)
    expect(first.status).toBe(200)
    expect(first.body.refreshJwt).not.toBe(account.refreshJwt)
    // Two tabs refreshing with the same token: both get a working session, with the same
    // next refresh token, instead of one being logged out.
    const second = await refresh(account.refreshJwt)
    expect(second.status).toBe(200)
    expect(jtiOf(second.body.refreshJwt)).toBe(jtiOf(first.body.refreshJwt))
    for (const session of [first, second]) {
      const me = await xrpcGet('com.atproto.server.getSession', {}, session.body.accessJwt)
      expect(me.status).toBe(200)
    }
    // The used token's life is cut to the grace (2 hours, as the reference PDS)...
    const oldJti = jtiOf(account.refreshJwt)
    const row = await env.DB.prepare('SELECT expires_at FROM refresh_token WHERE id = ?')
      .bind(oldJti)
      .first<{ expires_at: string }>()
    expect(Date.parse(row!.expires_at)).toBeLessThanOrEqual(Date.now() + 2 * 3600_000)
    // ...and past it, the token is refused.
    await env.DB.prepare('UPDATE refresh_token SET expires_at = ? WHERE id = ?')
      .bind(new Date(Date.now() - 1000).toISOString(), oldJti)
      .run()
    const late = await refresh(account.refreshJwt)
    expect(late.status).toBe(400)
    expect(late.body).toMatchObject({ error: 'ExpiredToken' })
    // The next token is a token of its own.
    expect((await refresh(first.body.refreshJwt)).status).toBe(200)
  })

  it('deleteSession ends the refresh token', async () => {
    const account = await createTestAccount('logout')
    const out = await xrpcPost('com.atproto.server.deleteSession', undefined, account.refreshJwt)
    expect(out.status).toBe(200)
    const res = await xrpcPost('com.atproto.server.refreshSession', undefined, account.refreshJwt)
    expect(res.status).toBe(400)
  })

  it.each([
    ['no token', undefined, 401, 'AuthMissing'],
    ['garbage', 'not.a.jwt', 400, 'InvalidToken'],
    [
      'alg none',
      `${btoa(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).replace(/=+$/, '')}.${btoa(
        JSON.stringify({
          scope: 'com.atproto.access',
          sub: 'did:plc:x',
          aud: 'did:web:localhost',
          iat: 1,
          exp: 9999999999,
        }),
      ).replace(/=+$/, '')}.`,
      400,
      'InvalidToken',
    ],
  ])('refuses getSession with %s', async (_label, token, status, error) => {
    const res = await xrpcGet('com.atproto.server.getSession', {}, token)
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ error })
  })

  it('refuses a refresh token where an access token is expected and vice versa', async () => {
    const account = await createTestAccount('typ')
    const asAccess = await xrpcGet('com.atproto.server.getSession', {}, account.refreshJwt)
    expect(asAccess.status).toBe(400)
    expect(asAccess.body).toMatchObject({ error: 'InvalidToken' })
    const asRefresh = await xrpcPost(
      'com.atproto.server.refreshSession',
      undefined,
      account.accessJwt,
    )
    expect(asRefresh.status).toBe(400)
    expect(asRefresh.body).toMatchObject({ error: 'InvalidToken' })
  })
})

describe('handles', () => {
  it('updates the handle in D1 and in the PLC document, and resolves it', async () => {
    const account = await createTestAccount('rename')
    const newHandle = uniqueHandle('renamed')
    const res = await xrpcPost(
      'com.atproto.identity.updateHandle',
      { handle: newHandle },
      account.accessJwt,
    )
    expect(res.status).toBe(200)
    expect(
      (await xrpcGet('com.atproto.identity.resolveHandle', { handle: newHandle })).body,
    ).toEqual({
      did: account.did,
    })
    const old = await xrpcGet('com.atproto.identity.resolveHandle', { handle: account.handle })
    expect(old.status).toBe(400)
    expect(old.body).toMatchObject({ error: 'HandleNotFound' })
    const doc = (await plcDocument(account.did)) as { alsoKnownAs: string[] }
    expect(doc.alsoKnownAs).toEqual([`at://${newHandle}`])
  })

  it('answers /.well-known/atproto-did by Host', async () => {
    const account = await createTestAccount('wellknown')
    const res = await SELF.fetch(`http://${account.handle}/.well-known/atproto-did`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(account.did)
    const missing = await SELF.fetch('http://nobody-here.test/.well-known/atproto-did')
    expect(missing.status).toBe(404)
  })

  it('serves its own did:web document', async () => {
    const res = await SELF.fetch('http://localhost:2583/.well-known/did.json')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      id: 'did:web:localhost',
      service: [
        {
          id: '#atproto_pds',
          type: 'AtprotoPersonalDataServer',
          serviceEndpoint: 'http://localhost:2583',
        },
      ],
    })
  })
})

describe('a session that outlives its account row', () => {
  it('gets AccountNotFound from the account-management methods, never a 500', async () => {
    const account = await createTestAccount('orphan')
    await env.DB.prepare('DELETE FROM account WHERE did = ?').bind(account.did).run()
    const calls: [string, 'get' | 'post', unknown][] = [
      ['com.atproto.server.checkAccountStatus', 'get', undefined],
      ['com.atproto.server.requestAccountDelete', 'post', undefined],
      ['com.atproto.server.deactivateAccount', 'post', {}],
      ['com.atproto.server.activateAccount', 'post', undefined],
      ['com.atproto.identity.updateHandle', 'post', { handle: uniqueHandle('orphan2') }],
    ]
    for (const [nsid, method, body] of calls) {
      const res =
        method === 'get'
          ? await xrpcGet(nsid, {}, account.accessJwt)
          : await xrpcPost(nsid, body, account.accessJwt)
      expect(res.status, nsid).toBe(400)
      expect(res.body, nsid).toMatchObject({ error: 'AccountNotFound' })
    }
  })
})
