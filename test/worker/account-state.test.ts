/**
 * Account state through the Worker: deactivation and activation (D1, the account's Durable
 * Object and its events), checkAccountStatus, and deletion with a token.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import { accountStub, sequencerStub } from '../../src/bindings.ts'
import { getConfig } from '../../src/config.ts'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import {
  cidForPlcOperation,
  createUpdateOperation,
  PlcClient,
  signPlcOperation,
} from '../../src/identity/index.ts'
import { plcRotationKey } from '../../src/identity/services.ts'
import { expectWrongSessionKind } from './helpers/auth.ts'
import { codeIn, lastMailId, nextMail } from './helpers/mailbox.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const ADMIN_PASSWORD = (env as unknown as { PDS_ADMIN_PASSWORD: string }).PDS_ADMIN_PASSWORD
const admin = { authorization: `Basic ${btoa(`admin:${ADMIN_PASSWORD}`)}` }

interface AccountStatus {
  activated: boolean
  validDid: boolean
  repoCommit: string
  repoRev: string
  repoBlocks: number
  indexedRecords: number
  privateStateValues: number
  expectedBlobs: number
  importedBlobs: number
}

type Event = { type: string; body: Record<string, unknown> }

async function eventsOf(did: string): Promise<Event[]> {
  const events = await sequencerStub(env).getEvents({ after: 0, limit: 100_000 })
  return events
    .filter((event) => event.did === did)
    .map((event) => ({ type: event.type, body: decodeCbor<Record<string, unknown>>(event.body) }))
}

let rkeyCounter = 0
/** A post written straight through the account's Durable Object (no createRecord yet). */
function writePost(did: string) {
  rkeyCounter++
  return accountStub(env, did).applyWrites({
    writes: [
      {
        action: 'create',
        collection: 'app.bsky.feed.post',
        rkey: `3lbc${rkeyCounter.toString().padStart(9, '2')}`,
        record: encodeCbor({
          $type: 'app.bsky.feed.post',
          text: 'hello',
          createdAt: '2024-01-01T00:00:00.000Z',
        }),
      },
    ],
  })
}

async function accountRow(did: string) {
  return env.DB.prepare('SELECT status, deactivated_at, delete_after FROM account WHERE did = ?')
    .bind(did)
    .first<{ status: string; deactivated_at: string | null; delete_after: string | null }>()
}

async function appPasswordSession(account: TestAccount): Promise<TestAccount> {
  const app = await xrpcPost<{ password: string }>(
    'com.atproto.server.createAppPassword',
    { name: `app ${crypto.randomUUID()}` },
    account.accessJwt,
  )
  expect(app.status).toBe(200)
  const session = await xrpcPost<TestAccount>('com.atproto.server.createSession', {
    identifier: account.handle,
    password: app.body.password,
  })
  expect(session.status).toBe(200)
  return session.body
}

/** Points the account's PLC document at another PDS (signed with this PDS's rotation key). */
async function moveDidElsewhere(did: string): Promise<void> {
  const plc = new PlcClient(inject('plcUrl'))
  const last = await plc.getLastOperation(did)
  const op = await signPlcOperation(
    createUpdateOperation(last, await cidForPlcOperation(last), {
      pdsEndpoint: 'https://elsewhere.example.com',
    }),
    await plcRotationKey(getConfig(env)),
  )
  await plc.submitOperation(did, op)
}

describe('deactivateAccount and activateAccount', () => {
  it('deactivates: sessions still work, writes are refused, #account is emitted', async () => {
    const account = await createTestAccount('deact')
    const res = await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({})

    // As the reference answers getSession while deactivated (fixture 32).
    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.status).toBe(200)
    expect(session.body).toMatchObject({
      did: account.did,
      handle: account.handle,
      email: account.email,
      emailConfirmed: false,
      active: false,
      status: 'deactivated',
    })
    expect(await accountRow(account.did)).toMatchObject({
      status: 'deactivated',
      deactivated_at: expect.any(String),
      delete_after: null,
    })
    expect(await writePost(account.did)).toMatchObject({
      ok: false,
      error: { name: 'AccountDeactivated' },
    })
    // Through XRPC, as the reference answers (fixture 37).
    const create = await xrpcPost(
      'com.atproto.repo.createRecord',
      {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: {
          $type: 'app.bsky.feed.post',
          text: 'while deactivated',
          createdAt: new Date().toISOString(),
        },
      },
      account.accessJwt,
    )
    expect(create.status).toBe(401)
    expect(create.body).toMatchObject({ error: 'AccountDeactivated' })
    expect(await accountStub(env, account.did).getStatus()).toMatchObject({
      active: false,
      status: 'deactivated',
    })
    const events = await eventsOf(account.did)
    expect(events.at(-1)).toEqual({
      type: '#account',
      body: expect.objectContaining({ did: account.did, active: false, status: 'deactivated' }),
    })

    // Neither resolveHandle nor /.well-known/atproto-did answers for an inactive account (as
    // the reference PDS): its handle, under our domain, resolves nowhere until reactivation.
    const resolved = await xrpcGet('com.atproto.identity.resolveHandle', {
      handle: account.handle,
    })
    expect(resolved.status).toBe(400)
    expect(resolved.body).toMatchObject({ error: 'HandleNotFound' })
    const wellKnown = await SELF.fetch(`http://${account.handle}/.well-known/atproto-did`)
    expect(wellKnown.status).toBe(404)

    // A second deactivation changes nothing and emits nothing.
    const count = events.length
    expect(
      (await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)).status,
    ).toBe(200)
    expect(await eventsOf(account.did)).toHaveLength(count)
  })

  it('activates again: #account, #identity, #sync; writes and well-known work', async () => {
    const account = await createTestAccount('react')
    await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)
    const before = (await eventsOf(account.did)).length
    const res = await xrpcPost('com.atproto.server.activateAccount', undefined, account.accessJwt)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({})

    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.body).toMatchObject({ did: account.did, active: true })
    expect(session.body.status).toBeUndefined()
    expect(await accountRow(account.did)).toEqual({
      status: 'active',
      deactivated_at: null,
      delete_after: null,
    })
    const events = (await eventsOf(account.did)).slice(before)
    expect(events.map((e) => e.type)).toEqual(['#account', '#identity', '#sync'])
    expect(events[0]!.body).toMatchObject({ did: account.did, active: true })
    expect(events[0]!.body.status).toBeUndefined()
    expect(events[1]!.body).toMatchObject({ did: account.did, handle: account.handle })

    expect(await writePost(account.did)).toMatchObject({ ok: true })
    const wellKnown = await SELF.fetch(`http://${account.handle}/.well-known/atproto-did`)
    expect(await wellKnown.text()).toBe(account.did)
    const resolved = await xrpcGet('com.atproto.identity.resolveHandle', {
      handle: account.handle,
    })
    expect(resolved.body).toEqual({ did: account.did })
  })

  it('records deleteAfter, and activation clears it', async () => {
    const account = await createTestAccount('delafter')
    const deleteAfter = '2030-01-02T03:04:05.000Z'
    const res = await xrpcPost(
      'com.atproto.server.deactivateAccount',
      { deleteAfter },
      account.accessJwt,
    )
    expect(res.status).toBe(200)
    expect((await accountRow(account.did))?.delete_after).toBe(deleteAfter)
    await xrpcPost('com.atproto.server.activateAccount', undefined, account.accessJwt)
    expect((await accountRow(account.did))?.delete_after).toBeNull()
  })

  it('refuses app passwords, missing auth and a malformed deleteAfter', async () => {
    const account = await createTestAccount('deactauth')
    const app = await appPasswordSession(account)
    for (const nsid of [
      'com.atproto.server.deactivateAccount',
      'com.atproto.server.activateAccount',
    ]) {
      const body = nsid.endsWith('deactivateAccount') ? {} : undefined
      const fromApp = await xrpcPost(nsid, body, app.accessJwt)
      expectWrongSessionKind(fromApp)
      const anonymous = await xrpcPost(nsid, body)
      expect(anonymous.status).toBe(401)
    }
    const bad = await xrpcPost(
      'com.atproto.server.deactivateAccount',
      { deleteAfter: 'next tuesday' },
      account.accessJwt,
    )
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: 'InvalidRequest' })
    expect((await accountRow(account.did))?.status).toBe('active')
  })

  it('will not activate while the DID document points at another PDS', async () => {
    const account = await createTestAccount('moved')
    await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)
    await moveDidElsewhere(account.did)
    const res = await xrpcPost('com.atproto.server.activateAccount', undefined, account.accessJwt)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      error: 'InvalidRequest',
      message: expect.stringContaining('elsewhere.example.com'),
    })
    expect((await accountRow(account.did))?.status).toBe('deactivated')
    expect(await accountStub(env, account.did).getStatus()).toMatchObject({ active: false })
    const status = await xrpcGet<AccountStatus>(
      'com.atproto.server.checkAccountStatus',
      {},
      account.accessJwt,
    )
    expect(status.body).toMatchObject({ activated: false, validDid: false })
  })
})

describe('checkAccountStatus', () => {
  it('reports activation, DID validity, the head and the indexed records', async () => {
    const account = await createTestAccount('status')
    const written = await writePost(account.did)
    expect(written).toMatchObject({ ok: true })
    const head = (await accountStub(env, account.did).getHead())!

    const res = await xrpcGet<AccountStatus>(
      'com.atproto.server.checkAccountStatus',
      {},
      account.accessJwt,
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      activated: true,
      validDid: true,
      repoCommit: head.cid,
      repoRev: head.rev,
      // The head commit, the one MST node and the post; the genesis commit and root await GC.
      repoBlocks: 3,
      indexedRecords: 1,
      privateStateValues: 0,
      expectedBlobs: 0,
      importedBlobs: 0,
    })

    await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)
    // App-password sessions may ask too.
    const app = await appPasswordSession(account)
    const deactivated = await xrpcGet<AccountStatus>(
      'com.atproto.server.checkAccountStatus',
      {},
      app.accessJwt,
    )
    expect(deactivated.status).toBe(200)
    expect(deactivated.body).toMatchObject({
      activated: false,
      validDid: true,
      repoCommit: head.cid,
      indexedRecords: 1,
    })
    expect((await xrpcGet('com.atproto.server.checkAccountStatus')).status).toBe(401)
  })
})

describe('requestAccountDelete and deleteAccount', () => {
  async function requestToken(account: TestAccount): Promise<string> {
    const before = await lastMailId(account.email)
    const res = await xrpcPost(
      'com.atproto.server.requestAccountDelete',
      undefined,
      account.accessJwt,
    )
    expect(res.status).toBe(200)
    const mail = await nextMail(account.email, before)
    expect(mail.subject).toMatch(/delete your account/)
    const token = codeIn(mail)
    expect(token).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/)
    const row = await env.DB.prepare(
      "SELECT requested_at FROM account_token WHERE did = ? AND purpose = 'delete_account'",
    )
      .bind(account.did)
      .first<{ requested_at: string }>()
    expect(row).not.toBeNull()
    return token
  }

  function deleteAccount(body: Record<string, unknown>) {
    return xrpcPost('com.atproto.server.deleteAccount', body)
  }

  it('deletes the account, its repo, its index rows and its sessions', async () => {
    const account = await createTestAccount('deleteme')
    expect(await writePost(account.did)).toMatchObject({ ok: true })
    const token = await requestToken(account)

    // Lower case and spaces are forgiven; the token is typed back by a person.
    const res = await deleteAccount({
      did: account.did,
      password: account.password,
      token: ` ${token.toLowerCase()} `,
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({})

    // Only the deletion notice stays replayable: the repo's commits left the window.
    const events = await eventsOf(account.did)
    expect(events).toEqual([
      {
        type: '#account',
        body: expect.objectContaining({ did: account.did, active: false, status: 'deleted' }),
      },
    ])
    expect(await accountStub(env, account.did).getHead()).toBeNull()
    const rows = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM account WHERE did = ?1) AS accounts,
              (SELECT count(*) FROM record WHERE did = ?1) AS records,
              (SELECT count(*) FROM repo_root WHERE did = ?1) AS roots,
              (SELECT count(*) FROM refresh_token WHERE did = ?1) AS refresh,
              (SELECT count(*) FROM app_password WHERE did = ?1) AS apps,
              (SELECT count(*) FROM account_token WHERE did = ?1) AS tokens`,
    )
      .bind(account.did)
      .first()
    expect(rows).toEqual({ accounts: 0, records: 0, roots: 0, refresh: 0, apps: 0, tokens: 0 })

    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.status).toBe(401)
    const login = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
    })
    expect(login.status).toBe(401)
    const resolved = await xrpcGet('com.atproto.identity.resolveHandle', {
      handle: account.handle,
    })
    expect(resolved.status).toBe(400)
    const again = await deleteAccount({ did: account.did, password: account.password, token })
    expect(again.status).toBe(400)
  })

  it('refuses a wrong password, an app password, a wrong, old or replaced token', async () => {
    const account = await createTestAccount('delrefuse')
    const app = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'app' },
      account.accessJwt,
    )
    const noToken = await deleteAccount({
      did: account.did,
      password: account.password,
      token: 'ABCDE-FGHJK',
    })
    expect(noToken.status).toBe(400)
    expect(noToken.body).toMatchObject({ error: 'InvalidToken' })

    const token = await requestToken(account)
    const wrongPassword = await deleteAccount({ did: account.did, password: 'nope nope', token })
    expect(wrongPassword.status).toBe(401)
    expect(wrongPassword.body).toMatchObject({ error: 'AuthenticationRequired' })
    const appPassword = await deleteAccount({
      did: account.did,
      password: app.body.password,
      token,
    })
    expect(appPassword.status).toBe(401)
    const wrongToken = await deleteAccount({
      did: account.did,
      password: account.password,
      token: token === 'ABCDE-FGHJK' ? 'ABCDE-FGHJM' : 'ABCDE-FGHJK',
    })
    expect(wrongToken.status).toBe(400)
    expect(wrongToken.body).toMatchObject({ error: 'InvalidToken' })

    // A new request replaces the token.
    const newer = await requestToken(account)
    if (newer !== token) {
      const replaced = await deleteAccount({ did: account.did, password: account.password, token })
      expect(replaced.body).toMatchObject({ error: 'InvalidToken' })
    }

    // Past 15 minutes the right token is expired.
    await env.DB.prepare('UPDATE account_token SET requested_at = ? WHERE did = ?')
      .bind(new Date(Date.now() - 16 * 60 * 1000).toISOString(), account.did)
      .run()
    const expired = await deleteAccount({
      did: account.did,
      password: account.password,
      token: newer,
    })
    expect(expired.status).toBe(400)
    expect(expired.body).toMatchObject({ error: 'ExpiredToken' })

    // Nothing was deleted.
    expect((await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)).status).toBe(200)
    expect(await accountStub(env, account.did).getHead()).not.toBeNull()
  })

  it.each([
    ['no DID', { password: 'x', token: 'y' }],
    ['a malformed DID', { did: 'nope', password: 'x', token: 'y' }],
    ['an unknown DID', { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', password: 'x', token: 'y' }],
    ['no token', { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', password: 'x' }],
  ])('deleteAccount answers 400 for %s', async (_label, body) => {
    const res = await deleteAccount(body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'InvalidRequest' })
  })

  it('requestAccountDelete needs a full-access session', async () => {
    const account = await createTestAccount('delreqauth')
    const app = await appPasswordSession(account)
    const fromApp = await xrpcPost(
      'com.atproto.server.requestAccountDelete',
      undefined,
      app.accessJwt,
    )
    expectWrongSessionKind(fromApp)
    expect((await xrpcPost('com.atproto.server.requestAccountDelete', undefined)).status).toBe(401)
  })

  it('the operator token listing is gone: codes go by mail', async () => {
    const res = await SELF.fetch(
      'http://localhost:2583/xrpc/dev.edgepds.admin.getAccountTokens?did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
      { headers: admin },
    )
    expect(res.status).toBe(501)
  })
})
