/**
 * App passwords through the Worker: create, log in with one, what its sessions may do, list,
 * and revocation that ends its sessions at once.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { accessPrivileged, accessStandard } from '../../src/api/auth-verifiers.ts'
import { getConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import { XrpcError } from '../../src/xrpc/errors.ts'
import { expectWrongSessionKind } from './helpers/auth.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

interface AppPassword {
  name: string
  password: string
  createdAt: string
  privileged?: boolean
}

async function createAppPassword(
  account: TestAccount,
  name: string,
  privileged?: boolean,
): Promise<AppPassword> {
  const res = await xrpcPost<AppPassword>(
    'com.atproto.server.createAppPassword',
    { name, ...(privileged === undefined ? {} : { privileged }) },
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return res.body
}

async function login(identifier: string, password: string) {
  return xrpcPost<TestAccount & { email?: string }>('com.atproto.server.createSession', {
    identifier,
    password,
  })
}

/** Runs an auth verifier on a request carrying `token`; the XRPC error it throws, or null. */
async function verifierError(
  verifier: typeof accessPrivileged,
  token: string,
): Promise<XrpcError | null> {
  const request = new Request('http://localhost:2583/xrpc/chat.bsky.convo.listConvos', {
    headers: { authorization: `Bearer ${token}` },
  })
  try {
    await verifier(request, { env, config: getConfig(env), db: getDb(env.DB) })
    return null
  } catch (err) {
    if (err instanceof XrpcError) return err
    throw err
  }
}

describe('createAppPassword', () => {
  it('returns the generated password once, with its name, date and privilege', async () => {
    const account = await createTestAccount('apcreate')
    const before = Date.now()
    const created = await createAppPassword(account, 'My phone')
    expect(created.name).toBe('My phone')
    expect(created.password).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
    expect(created.privileged).toBe(false)
    expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual(before - 1000)

    const privileged = await createAppPassword(account, 'Chat client', true)
    expect(privileged.privileged).toBe(true)
    expect(privileged.password).not.toBe(created.password)

    const list = await xrpcGet<{ passwords: Omit<AppPassword, 'password'>[] }>(
      'com.atproto.server.listAppPasswords',
      {},
      account.accessJwt,
    )
    expect(list.status).toBe(200)
    expect(list.body.passwords).toEqual([
      { name: 'My phone', createdAt: created.createdAt, privileged: false },
      { name: 'Chat client', createdAt: privileged.createdAt, privileged: true },
    ])
    expect(JSON.stringify(list.body)).not.toContain(created.password)
  })

  it('refuses a name the account already uses, and trims names', async () => {
    const account = await createTestAccount('apdup')
    await createAppPassword(account, 'laptop')
    const again = await xrpcPost(
      'com.atproto.server.createAppPassword',
      { name: '  laptop ' },
      account.accessJwt,
    )
    expect(again.status).toBe(400)
    expect(again.body).toMatchObject({ error: 'InvalidRequest', message: expect.any(String) })
    // Another account may use the same name.
    const other = await createTestAccount('apdup2')
    await createAppPassword(other, 'laptop')
  })

  it.each([
    ['no name', {}],
    ['an empty name', { name: '   ' }],
    ['a name that is too long', { name: 'x'.repeat(65) }],
    ['a control character', { name: 'tab\there' }],
    ['a non-boolean privileged', { name: 'ok name', privileged: 'yes' }],
  ])('refuses %s', async (_label, body) => {
    const account = await createTestAccount('apbad')
    const res = await xrpcPost('com.atproto.server.createAppPassword', body, account.accessJwt)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'InvalidRequest' })
  })

  it('needs a full-access session', async () => {
    const account = await createTestAccount('apauth')
    const none = await xrpcPost('com.atproto.server.createAppPassword', { name: 'x' })
    expect(none.status).toBe(401)
    expect(none.body).toMatchObject({ error: 'AuthMissing' })

    const app = await createAppPassword(account, 'app')
    const session = await login(account.handle, app.password)
    expect(session.status).toBe(200)
    const fromApp = await xrpcPost(
      'com.atproto.server.createAppPassword',
      { name: 'made by an app' },
      session.body.accessJwt,
    )
    expectWrongSessionKind(fromApp)
  })
})

describe('app-password sessions', () => {
  it('log in, hide the email, and pass only the checks their privilege allows', async () => {
    const account = await createTestAccount('apsess')
    const app = await createAppPassword(account, 'reader')
    const session = await login(account.email, app.password)
    expect(session.status).toBe(200)
    expect(session.body).toMatchObject({ did: account.did, handle: account.handle, active: true })
    expect(session.body.email).toBeUndefined()

    const me = await xrpcGet('com.atproto.server.getSession', {}, session.body.accessJwt)
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ did: account.did, handle: account.handle })
    expect(me.body.email).toBeUndefined()
    expect(me.body.emailConfirmed).toBeUndefined()

    // Listing is open to app-password sessions, as on the reference PDS.
    const list = await xrpcGet('com.atproto.server.listAppPasswords', {}, session.body.accessJwt)
    expect(list.status).toBe(200)

    expect(await verifierError(accessStandard, session.body.accessJwt)).toBeNull()
    const refused = await verifierError(accessPrivileged, session.body.accessJwt)
    expectWrongSessionKind({
      status: refused!.status,
      body: { error: refused!.error, message: refused!.message },
    })

    const privileged = await createAppPassword(account, 'chat', true)
    const privSession = await login(account.handle, privileged.password)
    expect(privSession.status).toBe(200)
    expect(await verifierError(accessPrivileged, privSession.body.accessJwt)).toBeNull()
    expect(await verifierError(accessPrivileged, account.accessJwt)).toBeNull()

    // The refresh token of an app-password session stays an app-password session.
    const refreshed = await xrpcPost<TestAccount>(
      'com.atproto.server.refreshSession',
      undefined,
      session.body.refreshJwt,
    )
    expect(refreshed.status).toBe(200)
    const stillRefused = await verifierError(accessPrivileged, refreshed.body.accessJwt)
    expect(stillRefused?.status).toBe(refused!.status)
  })

  it('a wrong app password does not log in', async () => {
    const account = await createTestAccount('apwrong')
    await createAppPassword(account, 'one')
    const res = await login(account.handle, 'aaaa-bbbb-cccc-dddd')
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ error: 'AuthenticationRequired' })
  })
})

describe('revokeAppPassword', () => {
  it('ends the sessions of the app password at once and stops its logins', async () => {
    const account = await createTestAccount('aprevoke')
    const app = await createAppPassword(account, 'to revoke')
    const keep = await createAppPassword(account, 'to keep')
    const session = await login(account.handle, app.password)
    const kept = await login(account.handle, keep.password)
    expect(session.status).toBe(200)
    expect(kept.status).toBe(200)
    expect(
      (await xrpcGet('com.atproto.server.getSession', {}, session.body.accessJwt)).status,
    ).toBe(200)

    const revoked = await xrpcPost(
      'com.atproto.server.revokeAppPassword',
      { name: 'to revoke' },
      account.accessJwt,
    )
    expect(revoked.status).toBe(200)

    const access = await xrpcGet('com.atproto.server.getSession', {}, session.body.accessJwt)
    expect(access.status).toBe(401)
    expect(access.body).toMatchObject({ error: 'ExpiredToken' })
    // Logging out with its refresh token is refused the same way as refreshing.
    const logout = await xrpcPost(
      'com.atproto.server.deleteSession',
      undefined,
      session.body.refreshJwt,
    )
    expect(logout.status).toBe(400)
    expect(logout.body).toMatchObject({ error: 'ExpiredToken' })
    const refresh = await xrpcPost(
      'com.atproto.server.refreshSession',
      undefined,
      session.body.refreshJwt,
    )
    expect(refresh.status).toBe(400)
    expect(refresh.body).toMatchObject({ error: 'ExpiredToken' })
    const again = await login(account.handle, app.password)
    expect(again.status).toBe(401)

    // The other app password and the account's own session are untouched.
    expect((await xrpcGet('com.atproto.server.getSession', {}, kept.body.accessJwt)).status).toBe(
      200,
    )
    expect((await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)).status).toBe(200)
    const list = await xrpcGet<{ passwords: { name: string }[] }>(
      'com.atproto.server.listAppPasswords',
      {},
      account.accessJwt,
    )
    expect(list.body.passwords.map((p) => p.name)).toEqual(['to keep'])
  })

  it('lets an app-password session revoke, as on the reference PDS', async () => {
    const account = await createTestAccount('apselfrev')
    const app = await createAppPassword(account, 'self')
    const session = await login(account.handle, app.password)
    const res = await xrpcPost(
      'com.atproto.server.revokeAppPassword',
      { name: 'self' },
      session.body.accessJwt,
    )
    expect(res.status).toBe(200)
    expect(
      (await xrpcGet('com.atproto.server.getSession', {}, session.body.accessJwt)).status,
    ).toBe(401)
  })

  it('refuses an unknown name, a missing name, and no auth', async () => {
    const account = await createTestAccount('aprevbad')
    const unknown = await xrpcPost(
      'com.atproto.server.revokeAppPassword',
      { name: 'never made' },
      account.accessJwt,
    )
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({ error: 'InvalidRequest' })
    const missing = await xrpcPost('com.atproto.server.revokeAppPassword', {}, account.accessJwt)
    expect(missing.status).toBe(400)
    const anonymous = await xrpcPost('com.atproto.server.revokeAppPassword', { name: 'x' })
    expect(anonymous.status).toBe(401)
  })

  it('cannot reach another account’s app passwords', async () => {
    const owner = await createTestAccount('apowner')
    const other = await createTestAccount('apother')
    const app = await createAppPassword(owner, 'mine')
    const res = await xrpcPost(
      'com.atproto.server.revokeAppPassword',
      { name: 'mine' },
      other.accessJwt,
    )
    expect(res.status).toBe(400)
    expect((await login(owner.handle, app.password)).status).toBe(200)
  })
})
