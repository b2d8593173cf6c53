/**
 * Invite codes: admin creation, an account's own codes, and createAccount when a code is
 * required.
 *
 * The worker test project runs with PDS_INVITE_REQUIRED unset, so the required mode calls the
 * dispatcher directly with a config read from the same bindings plus PDS_INVITE_REQUIRED=true
 * (the same registry, D1, Durable Objects and PLC directory as through SELF).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { ConfigEnv } from '../../src/config.ts'
import { expectWrongSessionKind } from './helpers/auth.ts'
import { dispatcherWith } from './helpers/dispatch.ts'
import {
  createTestAccount,
  type TestAccount,
  uniqueHandle,
  type XrpcResult,
  xrpcGet,
  xrpcPost,
} from './helpers/xrpc.ts'

const ADMIN_PASSWORD = (env as unknown as ConfigEnv).PDS_ADMIN_PASSWORD!
const admin = { authorization: `Basic ${btoa(`admin:${ADMIN_PASSWORD}`)}` }
const CODE = /^localhost-[a-z2-7]{5}-[a-z2-7]{5}$/

interface InviteCode {
  code: string
  available: number
  disabled: boolean
  forAccount: string
  createdBy: string
  createdAt: string
  uses: { usedBy: string; usedAt: string }[]
}

function adminPost<T = Record<string, unknown>>(
  nsid: string,
  body: unknown,
  headers: Record<string, string> = admin,
): Promise<XrpcResult<T>> {
  return xrpcPost<T>(nsid, body, undefined, headers)
}

async function accountCodes(account: TestAccount, params = {}): Promise<InviteCode[]> {
  const res = await xrpcGet<{ codes: InviteCode[] }>(
    'com.atproto.server.getAccountInviteCodes',
    params,
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return res.body.codes
}

describe('createInviteCode(s)', () => {
  it('creates one code, for admin by default or for an account', async () => {
    const single = await adminPost<{ code: string }>('com.atproto.server.createInviteCode', {
      useCount: 3,
    })
    expect(single.status).toBe(200)
    expect(single.body.code).toMatch(CODE)

    const account = await createTestAccount('invone')
    const forAccount = await adminPost<{ code: string }>('com.atproto.server.createInviteCode', {
      useCount: 2,
      forAccount: account.did,
    })
    expect(forAccount.status).toBe(200)
    const codes = await accountCodes(account)
    expect(codes).toEqual([
      {
        code: forAccount.body.code,
        available: 2,
        disabled: false,
        forAccount: account.did,
        createdBy: 'admin',
        createdAt: expect.any(String),
        uses: [],
      },
    ])
  })

  it('creates codeCount codes for each account', async () => {
    const a = await createTestAccount('invmany')
    const b = await createTestAccount('invmany')
    const res = await adminPost<{ codes: { account: string; codes: string[] }[] }>(
      'com.atproto.server.createInviteCodes',
      { codeCount: 3, useCount: 1, forAccounts: [a.did, b.did] },
    )
    expect(res.status).toBe(200)
    expect(res.body.codes.map((c) => c.account)).toEqual([a.did, b.did])
    for (const entry of res.body.codes) {
      expect(entry.codes).toHaveLength(3)
      for (const code of entry.codes) expect(code).toMatch(CODE)
    }
    const all = res.body.codes.flatMap((c) => c.codes)
    expect(new Set(all).size).toBe(6)
    expect((await accountCodes(a)).map((c) => c.code).sort()).toEqual(
      [...res.body.codes[0]!.codes].sort(),
    )

    const forAdmin = await adminPost<{ codes: { account: string; codes: string[] }[] }>(
      'com.atproto.server.createInviteCodes',
      { codeCount: 2, useCount: 5 },
    )
    expect(forAdmin.status).toBe(200)
    expect(forAdmin.body.codes).toEqual([{ account: 'admin', codes: expect.any(Array) }])
    expect(forAdmin.body.codes[0]!.codes).toHaveLength(2)
  })

  it('stores more codes than one D1 statement can bind', async () => {
    const account = await createTestAccount('invbulk')
    const res = await adminPost<{ codes: { codes: string[] }[] }>(
      'com.atproto.server.createInviteCodes',
      { codeCount: 40, useCount: 1, forAccounts: [account.did] },
    )
    expect(res.status).toBe(200)
    expect(await accountCodes(account)).toHaveLength(40)
  })

  it.each([
    ['no admin auth', 'com.atproto.server.createInviteCode', { useCount: 1 }, {}, 401],
    [
      'a wrong admin password',
      'com.atproto.server.createInviteCode',
      { useCount: 1 },
      { authorization: `Basic ${btoa('admin:wrong')}` },
      401,
    ],
    [
      'a session token instead of admin auth',
      'com.atproto.server.createInviteCodes',
      { codeCount: 1, useCount: 1 },
      { authorization: 'Bearer not-admin' },
      401,
    ],
  ])('refuses %s', async (_label, nsid, body, headers, status) => {
    const res = await adminPost(nsid, body, headers)
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) })
  })

  it.each([
    ['a missing useCount', 'com.atproto.server.createInviteCode', {}],
    ['a zero useCount', 'com.atproto.server.createInviteCode', { useCount: 0 }],
    ['a negative useCount', 'com.atproto.server.createInviteCodes', { codeCount: 1, useCount: -2 }],
    ['a zero codeCount', 'com.atproto.server.createInviteCodes', { codeCount: 0, useCount: 1 }],
    ['too many codes', 'com.atproto.server.createInviteCodes', { codeCount: 1001, useCount: 1 }],
    [
      'a forAccount that is not a DID',
      'com.atproto.server.createInviteCode',
      { useCount: 1, forAccount: 'alice.test' },
    ],
    [
      'empty forAccounts',
      'com.atproto.server.createInviteCodes',
      { codeCount: 1, useCount: 1, forAccounts: [] },
    ],
  ])('answers InvalidRequest for %s', async (_label, nsid, body) => {
    const res = await adminPost(nsid, body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'InvalidRequest' })
  })
})

describe('getAccountInviteCodes', () => {
  it('needs a full-access session, as on the reference PDS', async () => {
    const account = await createTestAccount('invauth')
    const anonymous = await xrpcGet('com.atproto.server.getAccountInviteCodes')
    expect(anonymous.status).toBe(401)
    const app = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'app' },
      account.accessJwt,
    )
    const session = await xrpcPost<TestAccount>('com.atproto.server.createSession', {
      identifier: account.handle,
      password: app.body.password,
    })
    const res = await xrpcGet(
      'com.atproto.server.getAccountInviteCodes',
      {},
      session.body.accessJwt,
    )
    expectWrongSessionKind(res)
  })

  it('is empty for an account without codes and refuses bad params', async () => {
    const account = await createTestAccount('invnone')
    expect(await accountCodes(account)).toEqual([])
    const bad = await xrpcGet(
      'com.atproto.server.getAccountInviteCodes',
      { includeUsed: 'maybe' },
      account.accessJwt,
    )
    expect(bad.status).toBe(400)
  })
})

describe('createAccount with PDS_INVITE_REQUIRED=true', () => {
  /** A request through the dispatcher with the invite-required config. */
  const dispatch = dispatcherWith({ PDS_INVITE_REQUIRED: 'true' })

  async function createAccountRequired(
    inviteCode?: string,
  ): Promise<{ status: number; body: Record<string, unknown>; handle: string }> {
    const handle = uniqueHandle('invreq')
    const res = await dispatch('com.atproto.server.createAccount', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        handle,
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        ...(inviteCode === undefined ? {} : { inviteCode }),
      }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, handle }
  }

  async function handleExists(handle: string): Promise<boolean> {
    const res = await xrpcGet('com.atproto.identity.resolveHandle', { handle })
    return res.status === 200
  }

  it('describeServer says so', async () => {
    const res = await dispatch('com.atproto.server.describeServer')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ inviteCodeRequired: true })
  })

  it('refuses a missing or unknown code and creates nothing', async () => {
    for (const code of [undefined, '', 'localhost-aaaaa-bbbbb']) {
      const res = await createAccountRequired(code)
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'InvalidInviteCode', message: expect.any(String) })
      expect(await handleExists(res.handle)).toBe(false)
    }
  })

  it('accepts a good code until its uses run out, and shows each use', async () => {
    const inviter = await createTestAccount('inviter')
    const created = await adminPost<{ code: string }>('com.atproto.server.createInviteCode', {
      useCount: 2,
      forAccount: inviter.did,
    })
    const code = created.body.code

    const first = await createAccountRequired(code)
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body).toMatchObject({ handle: first.handle, did: expect.any(String) })
    const second = await createAccountRequired(code)
    expect(second.status).toBe(200)

    const usedUp = await createAccountRequired(code)
    expect(usedUp.status).toBe(400)
    expect(usedUp.body).toMatchObject({ error: 'InvalidInviteCode' })
    expect(await handleExists(usedUp.handle)).toBe(false)

    const [shown] = await accountCodes(inviter)
    expect(shown).toMatchObject({ code, available: 2, disabled: false, forAccount: inviter.did })
    expect(shown!.uses.map((u) => u.usedBy).sort()).toEqual(
      [first.body.did as string, second.body.did as string].sort(),
    )
    for (const use of shown!.uses) expect(Number.isNaN(Date.parse(use.usedAt))).toBe(false)

    // includeUsed=false leaves out codes with no uses left.
    expect(await accountCodes(inviter, { includeUsed: false })).toEqual([])
  })
})
