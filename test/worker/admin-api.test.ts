/**
 * com.atproto.admin.*: each method with the admin password (HTTP Basic) and, where the
 * reference PDS allows it, with a service-auth JWT from the configured moderation service (a
 * did:plc on the test PLC directory, test/helpers/mod-service.ts); refused without auth, with a
 * wrong password, or with a JWT from anyone else or for another method.
 */
import { env } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import { adminGet, adminPost, modJwt, WRONG } from './helpers/admin.ts'
import { createTestAccount, uniqueHandle, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

describe('admin auth', () => {
  it('refuses no credentials, a wrong password, and a session token', async () => {
    const account = await createTestAccount('adm')
    const none = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did }, null)
    expect(none.status).toBe(401)
    expect(none.body.error).toBe('AuthMissing')
    const wrong = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did }, WRONG)
    expect(wrong.status).toBe(401)
    const session = await xrpcGet(
      'com.atproto.admin.getAccountInfo',
      { did: account.did },
      account.accessJwt,
    )
    expect(session.status).toBe(401)
  })

  it('takes the moderation service JWT for this method only, and from that service only', async () => {
    const account = await createTestAccount('admjwt')
    const lxm = 'com.atproto.admin.getAccountInfo'
    const ok = await adminGet(lxm, { did: account.did }, await modJwt(lxm))
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ did: account.did, handle: account.handle })

    // Bound to another method.
    const other = await adminGet(
      lxm,
      { did: account.did },
      await modJwt('com.atproto.admin.getSubjectStatus'),
    )
    expect(other.status).toBe(401)
    expect(other.body.error).toBe('BadJwtLexiconMethod')
    // Signed by an account of ours, not the moderation service.
    const stranger = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:localhost', lxm },
      account.accessJwt,
    )
    expect(stranger.status).toBe(200)
    const fromAccount = await adminGet(
      lxm,
      { did: account.did },
      `Bearer ${(stranger.body as { token: string }).token}`,
    )
    expect(fromAccount.status).toBe(401)
    // A token is good once.
    const once = await modJwt(lxm)
    expect((await adminGet(lxm, { did: account.did }, once)).status).toBe(200)
    expect((await adminGet(lxm, { did: account.did }, once)).status).toBe(401)
  })

  it('keeps deleteAccount and the account updates to the admin password', async () => {
    const account = await createTestAccount('admonly')
    for (const [nsid, body] of [
      ['com.atproto.admin.deleteAccount', { did: account.did }],
      ['com.atproto.admin.updateAccountPassword', { did: account.did, password: 'new password 1' }],
      ['com.atproto.admin.updateAccountEmail', { account: account.did, email: 'x@example.com' }],
      ['com.atproto.admin.updateAccountHandle', { did: account.did, handle: uniqueHandle('h') }],
    ] as const) {
      const res = await adminPost(nsid, body, await modJwt(nsid))
      expect(res.status, nsid).toBe(401)
    }
  })
})

describe('account info and search', () => {
  it('getAccountInfo(s) and searchAccounts show email, invites and status dates', async () => {
    const a = await createTestAccount('infoa')
    const b = await createTestAccount('infob')
    const info = await adminGet('com.atproto.admin.getAccountInfo', { did: a.did })
    expect(info.body).toMatchObject({
      did: a.did,
      handle: a.handle,
      email: a.email,
      invites: [],
      invitesDisabled: false,
    })
    expect(typeof info.body.indexedAt).toBe('string')
    const missing = await adminGet('com.atproto.admin.getAccountInfo', {
      did: 'did:plc:nobodyhere',
    })
    expect(missing.status).toBe(400)

    const infos = await adminGet('com.atproto.admin.getAccountInfos', {
      dids: [a.did, b.did, 'did:plc:nobodyhere'],
    })
    expect((infos.body.infos as { did: string }[]).map((i) => i.did).sort()).toEqual(
      [a.did, b.did].sort(),
    )

    const found = await adminGet('com.atproto.admin.searchAccounts', { email: a.email })
    expect((found.body.accounts as { did: string }[]).map((i) => i.did)).toEqual([a.did])
  })
})

describe('account updates', () => {
  it('updateAccountPassword: the old password stops working, sessions end', async () => {
    const account = await createTestAccount('pw')
    const res = await adminPost('com.atproto.admin.updateAccountPassword', {
      did: account.did,
      password: 'a brand new password',
    })
    expect(res.status).toBe(200)
    const old = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
    })
    expect(old.status).toBe(401)
    const fresh = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: 'a brand new password',
    })
    expect(fresh.status).toBe(200)
    const refreshed = await xrpcPost(
      'com.atproto.server.refreshSession',
      undefined,
      account.refreshJwt,
    )
    expect(refreshed.status).not.toBe(200)
    const tooShort = await adminPost('com.atproto.admin.updateAccountPassword', {
      did: account.did,
      password: 'short',
    })
    expect(tooShort).toMatchObject({ status: 400, body: { error: 'InvalidPassword' } })
  })

  it('updateAccountEmail and updateAccountHandle', async () => {
    const account = await createTestAccount('upd')
    const email = `${uniqueHandle('mail')}@example.org`
    expect(
      (await adminPost('com.atproto.admin.updateAccountEmail', { account: account.handle, email }))
        .status,
    ).toBe(200)
    const info = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did })
    expect(info.body.email).toBe(email)
    const bad = await adminPost('com.atproto.admin.updateAccountEmail', {
      account: account.did,
      email: 'not an email',
    })
    expect(bad).toMatchObject({ status: 400, body: { error: 'InvalidEmail' } })

    const handle = uniqueHandle('renamed')
    expect(
      (await adminPost('com.atproto.admin.updateAccountHandle', { did: account.did, handle }))
        .status,
    ).toBe(200)
    const resolved = await xrpcGet('com.atproto.identity.resolveHandle', { handle })
    expect(resolved.body).toEqual({ did: account.did })
  })

  it('deleteAccount removes the account', async () => {
    const account = await createTestAccount('del')
    expect((await adminPost('com.atproto.admin.deleteAccount', { did: account.did })).status).toBe(
      200,
    )
    const repo = await xrpcGet('com.atproto.repo.describeRepo', { repo: account.did })
    expect(repo.status).toBe(400)
    expect((await adminGet('com.atproto.admin.getAccountInfo', { did: account.did })).status).toBe(
      400,
    )
  })

  it('sendEmail mails the account through the configured mailer', async () => {
    const account = await createTestAccount('mail')
    const nsid = 'com.atproto.admin.sendEmail'
    const body = {
      recipientDid: account.did,
      senderDid: inject('modServiceDid'),
      subject: 'Moderation notice',
      content: 'hi',
    }
    const res = await adminPost(nsid, body, await modJwt(nsid))
    expect(res).toEqual({ status: 200, body: { sent: true } })
    // The test Worker's mailer is the development mailbox (PDS_MAILER=dev).
    const mail = await env.DB.prepare('SELECT subject FROM dev_mail WHERE to_address = ?')
      .bind(account.email.toLowerCase())
      .all<{ subject: string }>()
    expect(mail.results.map((m) => m.subject)).toContain('Moderation notice')
  })

  it('checkSignupQueue: every account is activated', async () => {
    const account = await createTestAccount('queue')
    const res = await xrpcGet('com.atproto.temp.checkSignupQueue', {}, account.accessJwt)
    expect(res.body).toEqual({ activated: true })
  })
})

describe('invite codes', () => {
  it('getInviteCodes, disableInviteCodes, disable/enableAccountInvites', async () => {
    const account = await createTestAccount('inv')
    const created = await adminPost('com.atproto.server.createInviteCodes', {
      codeCount: 2,
      useCount: 1,
      forAccounts: [account.did],
    })
    const codes = (created.body.codes as { codes: string[] }[])[0]!.codes
    const listed = await adminGet('com.atproto.admin.getInviteCodes', { limit: '500' })
    const listedCodes = (listed.body.codes as { code: string }[]).map((c) => c.code)
    expect(listedCodes).toEqual(expect.arrayContaining(codes))

    const nsid = 'com.atproto.admin.disableAccountInvites'
    expect((await adminPost(nsid, { account: account.did }, await modJwt(nsid))).status).toBe(200)
    let info = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did })
    expect(info.body.invitesDisabled).toBe(true)
    expect(
      (await adminPost('com.atproto.admin.enableAccountInvites', { account: account.did })).status,
    ).toBe(200)
    info = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did })
    expect(info.body.invitesDisabled).toBe(false)

    expect(
      (await adminPost('com.atproto.admin.disableInviteCodes', { codes: [codes[0]] })).status,
    ).toBe(200)
    info = await adminGet('com.atproto.admin.getAccountInfo', { did: account.did })
    const disabled = (info.body.invites as { code: string; disabled: boolean }[]).map((c) => [
      c.code,
      c.disabled,
    ])
    expect(disabled).toEqual(
      expect.arrayContaining([
        [codes[0], true],
        [codes[1], false],
      ]),
    )
    const refused = await adminPost('com.atproto.admin.disableInviteCodes', { accounts: ['admin'] })
    expect(refused.status).toBe(400)
  })
})
