/**
 * Email through the Worker with the development mailbox (PDS_MAILER=dev in the test pool):
 * confirmation, address change, password reset, sign-in codes, the codes' rules (wrong,
 * expired, reused, wrong purpose, attempts), and a PDS without a mailer.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { type ConfigEnv, readConfig } from '../../src/config.ts'
import { devMailboxEnabled } from '../../src/mail/dev-mailbox-page.ts'
import { dispatcherWith } from './helpers/dispatch.ts'
import { codeIn, lastMailId, mailTo, nextMail } from './helpers/mailbox.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

interface Session {
  email?: string
  emailConfirmed?: boolean
  emailAuthFactor: boolean
}

async function session(account: TestAccount): Promise<Session> {
  const res = await xrpcGet<Session>('com.atproto.server.getSession', {}, account.accessJwt)
  expect(res.status).toBe(200)
  return res.body
}

/** Calls `nsid` as the account and returns the mail it sent to `to`. */
async function requestMail(account: TestAccount, nsid: string, to = account.email) {
  const before = await lastMailId(to)
  const res = await xrpcPost(nsid, undefined, account.accessJwt)
  expect(res.status).toBe(200)
  return { res, mail: await nextMail(to, before) }
}

async function confirm(account: TestAccount): Promise<void> {
  const { mail } = await requestMail(account, 'com.atproto.server.requestEmailConfirmation')
  const res = await xrpcPost(
    'com.atproto.server.confirmEmail',
    { email: account.email, token: codeIn(mail) },
    account.accessJwt,
  )
  expect(res.status).toBe(200)
}

function otherCode(code: string): string {
  return code === 'ABCDE-FGHJK' ? 'ABCDE-FGHJM' : 'ABCDE-FGHJK'
}

function expectError(res: { status: number; body: unknown }, status: number, error: string) {
  expect(res.status).toBe(status)
  expect(res.body).toMatchObject({ error })
  expect(typeof (res.body as { message?: unknown }).message).toBe('string')
}

describe('mails people can trust', () => {
  it('are plain text and HTML with the code, the host, what was asked and what to do if not you', async () => {
    const account = await createTestAccount('mailshape')
    const { mail } = await requestMail(account, 'com.atproto.server.requestEmailConfirmation')
    const code = codeIn(mail)
    expect(code).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/)
    expect(mail.to).toBe(account.email)
    expect(mail.from).toBe('PDS <noreply@localhost>')
    expect(mail.subject).toBe('Confirm your email address (localhost)')
    expect(mail.text).toContain(`@${account.handle} on localhost`)
    expect(mail.text).toContain('It works once, for 15 minutes.')
    expect(mail.text).toMatch(/If it was not you/)
    expect(mail.html).toContain(code)
    expect(mail.html).toContain('If it was not you')
    // No tracking: nothing loaded from elsewhere, no links at all.
    expect(mail.html).not.toMatch(/<img|<a |src=|url\(/i)
    expect(mail.messageId).toMatch(/^<[a-z2-7]+@localhost>$/)
    expect(Math.abs(Date.parse(mail.date) - Date.now())).toBeLessThan(60_000)
  })

  it('name the operator when a contact address is configured', async () => {
    const account = await createTestAccount('mailcontact')
    const dispatch = dispatcherWith({ PDS_CONTACT_EMAIL: 'admin@pds.example' })
    const before = await lastMailId(account.email)
    const res = await dispatch('com.atproto.server.requestEmailConfirmation', {
      method: 'POST',
      headers: { authorization: `Bearer ${account.accessJwt}` },
    })
    expect(res.status).toBe(200)
    const mail = await nextMail(account.email, before)
    expect(mail.text).toContain('Write to the operator of localhost: admin@pds.example')
    expect(mail.html).toContain('admin@pds.example')
  })

  it('the mailbox page lists and shows the mail, escaped, with a sandboxed HTML part', async () => {
    const account = await createTestAccount('mailpage')
    const { mail } = await requestMail(account, 'com.atproto.server.requestEmailConfirmation')
    const page = await fetchPage(`/dev/mailbox?to=${encodeURIComponent(account.email)}`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.text).toContain(mail.subject)
    const one = await fetchPage(`/dev/mailbox/${mail.id}`)
    expect(one.text).toContain(codeIn(mail))
    expect(one.text).toContain('<iframe sandbox')
    expect((await fetchPage('/dev/mailbox/999999999')).status).toBe(404)
  })
})

async function fetchPage(path: string) {
  const res = await SELF.fetch(`http://localhost:2583${path}`)
  return { status: res.status, headers: res.headers, text: await res.text() }
}

describe('confirmEmail', () => {
  it('confirms the address; getSession reports it', async () => {
    const account = await createTestAccount('confirm')
    expect(await session(account)).toMatchObject({
      email: account.email,
      emailConfirmed: false,
      emailAuthFactor: false,
    })
    await confirm(account)
    expect(await session(account)).toMatchObject({ emailConfirmed: true })
  })

  it('refuses wrong, reused, expired, replaced and wrong-purpose codes', async () => {
    const account = await createTestAccount('confirmbad')
    const confirmWith = (token: string, email = account.email) =>
      xrpcPost('com.atproto.server.confirmEmail', { email, token }, account.accessJwt)

    // Nothing requested yet.
    expectError(await confirmWith('ABCDE-FGHJK'), 400, 'InvalidToken')

    const first = codeIn(
      (await requestMail(account, 'com.atproto.server.requestEmailConfirmation')).mail,
    )
    const second = codeIn(
      (await requestMail(account, 'com.atproto.server.requestEmailConfirmation')).mail,
    )
    // A new request replaces the old code.
    if (first !== second) expectError(await confirmWith(first), 400, 'InvalidToken')
    expectError(await confirmWith(otherCode(second)), 400, 'InvalidToken')
    // Another address than the account's.
    expectError(await confirmWith(second, 'someone@else.example'), 400, 'InvalidEmail')

    // Past 15 minutes.
    await env.DB.prepare('UPDATE account_token SET requested_at = ? WHERE did = ?')
      .bind(new Date(Date.now() - 16 * 60 * 1000).toISOString(), account.did)
      .run()
    expectError(await confirmWith(second), 400, 'ExpiredToken')

    // A deletion code is no confirmation code.
    const deletion = codeIn(
      (await requestMail(account, 'com.atproto.server.requestAccountDelete')).mail,
    )
    expectError(await confirmWith(deletion), 400, 'InvalidToken')

    const third = codeIn(
      (await requestMail(account, 'com.atproto.server.requestEmailConfirmation')).mail,
    )
    expect((await confirmWith(` ${third.toLowerCase()} `)).status).toBe(200)
    // Used once.
    expectError(await confirmWith(third), 400, 'InvalidToken')
  })

  it('burns a code after 5 wrong tries', async () => {
    const account = await createTestAccount('confirmtries')
    const code = codeIn(
      (await requestMail(account, 'com.atproto.server.requestEmailConfirmation')).mail,
    )
    for (let i = 0; i < 5; i++) {
      const res = await xrpcPost(
        'com.atproto.server.confirmEmail',
        { email: account.email, token: otherCode(code) },
        account.accessJwt,
      )
      expectError(res, 400, 'InvalidToken')
    }
    const right = await xrpcPost(
      'com.atproto.server.confirmEmail',
      { email: account.email, token: code },
      account.accessJwt,
    )
    expectError(right, 400, 'InvalidToken')
    expect(await session(account)).toMatchObject({ emailConfirmed: false })
  })
})

describe('requestEmailUpdate and updateEmail', () => {
  it('an unconfirmed address changes without a code', async () => {
    const account = await createTestAccount('upd')
    const before = await lastMailId(account.email)
    const req = await xrpcPost(
      'com.atproto.server.requestEmailUpdate',
      undefined,
      account.accessJwt,
    )
    expect(req.body).toEqual({ tokenRequired: false })
    expect(await lastMailId(account.email)).toBe(before)
    const email = `new-${account.email}`
    const res = await xrpcPost('com.atproto.server.updateEmail', { email }, account.accessJwt)
    expect(res.status).toBe(200)
    expect(await session(account)).toMatchObject({ email, emailConfirmed: false })
  })

  it('a confirmed address needs the code mailed to it; the new one starts unconfirmed', async () => {
    const account = await createTestAccount('updconf')
    await confirm(account)
    const { res, mail } = await requestMail(account, 'com.atproto.server.requestEmailUpdate')
    expect(res.body).toEqual({ tokenRequired: true })
    expect(mail.subject).toMatch(/change your email address/)
    const email = `NEW-${account.email}`
    const update = (body: Record<string, unknown>) =>
      xrpcPost('com.atproto.server.updateEmail', body, account.accessJwt)

    expectError(await update({ email }), 400, 'TokenRequired')
    expectError(await update({ email, token: otherCode(codeIn(mail)) }), 400, 'InvalidToken')
    expect((await update({ email, token: codeIn(mail) })).status).toBe(200)
    expect(await session(account)).toMatchObject({
      email: email.toLowerCase(),
      emailConfirmed: false,
    })
  })

  it('refuses an address in use and a malformed one, before using the code', async () => {
    const account = await createTestAccount('updbad')
    const other = await createTestAccount('updother')
    await confirm(account)
    const { mail } = await requestMail(account, 'com.atproto.server.requestEmailUpdate')
    const token = codeIn(mail)
    const update = (email: string) =>
      xrpcPost('com.atproto.server.updateEmail', { email, token }, account.accessJwt)
    const taken = await update(other.email.toUpperCase())
    expectError(taken, 400, 'InvalidRequest')
    expect((taken.body as { message: string }).message).toMatch(/already in use/)
    for (const bad of ['not an address', 'a@b', '@example.com', 'x@y@example.com']) {
      expectError(await update(bad), 400, 'InvalidEmail')
    }
    expect((await update(`fine-${account.email}`)).status).toBe(200)
  })
})

describe('password reset', () => {
  async function askReset(email: string) {
    return xrpcPost('com.atproto.server.requestPasswordReset', { email })
  }

  it('answers the same for a known and an unknown address; only the known one gets mail', async () => {
    const account = await createTestAccount('resetsame')
    const unknown = `nobody-${account.email}`
    const before = await lastMailId(account.email)
    const known = await askReset(account.email.toUpperCase())
    const missing = await askReset(unknown)
    expect(known.status).toBe(200)
    expect({ status: missing.status, body: missing.body }).toEqual({
      status: known.status,
      body: known.body,
    })
    expect([...known.headers.keys()].sort()).toEqual([...missing.headers.keys()].sort())
    const mail = await nextMail(account.email, before)
    expect(mail.subject).toMatch(/Reset your password/)
    expect(await mailTo(unknown)).toEqual([])
    expectError(await askReset('not an address'), 400, 'InvalidEmail')
  })

  it('sets the new password and ends every session, app-password sessions included', async () => {
    const account = await createTestAccount('reset')
    const app = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'phone' },
      account.accessJwt,
    )
    const appSession = await xrpcPost<TestAccount>('com.atproto.server.createSession', {
      identifier: account.handle,
      password: app.body.password,
    })
    expect(appSession.status).toBe(200)

    const before = await lastMailId(account.email)
    expect((await askReset(account.email)).status).toBe(200)
    const token = codeIn(await nextMail(account.email, before))

    const reset = (body: Record<string, unknown>) =>
      xrpcPost('com.atproto.server.resetPassword', body)
    expectError(
      await reset({ token: otherCode(token), password: 'a new password' }),
      400,
      'InvalidToken',
    )
    expectError(await reset({ token, password: 'short' }), 400, 'InvalidPassword')
    expect((await reset({ token, password: 'a new password' })).status).toBe(200)
    expectError(await reset({ token, password: 'another password' }), 400, 'InvalidToken')

    for (const refreshJwt of [account.refreshJwt, appSession.body.refreshJwt]) {
      const refreshed = await xrpcPost('com.atproto.server.refreshSession', undefined, refreshJwt)
      expect(refreshed.status).toBe(400)
      expect(refreshed.body).toMatchObject({ error: 'ExpiredToken' })
    }
    const old = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
    })
    expect(old.status).toBe(401)
    const fresh = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: 'a new password',
    })
    expect(fresh.status).toBe(200)
  })

  it('an expired reset code is ExpiredToken', async () => {
    const account = await createTestAccount('resetold')
    const before = await lastMailId(account.email)
    await askReset(account.email)
    const token = codeIn(await nextMail(account.email, before))
    await env.DB.prepare('UPDATE account_token SET requested_at = ? WHERE did = ?')
      .bind(new Date(Date.now() - 16 * 60 * 1000).toISOString(), account.did)
      .run()
    const res = await xrpcPost('com.atproto.server.resetPassword', {
      token,
      password: 'a new password',
    })
    expectError(res, 400, 'ExpiredToken')
  })
})

describe('sign-in codes (emailAuthFactor)', () => {
  it('need a confirmed address', async () => {
    const account = await createTestAccount('2fanoconf')
    const res = await xrpcPost(
      'com.atproto.server.updateEmail',
      { email: account.email, emailAuthFactor: true },
      account.accessJwt,
    )
    expectError(res, 400, 'InvalidRequest')
    expect(await session(account)).toMatchObject({ emailAuthFactor: false })
  })

  it('the password alone gets AuthFactorTokenRequired and a code; the code signs in', async () => {
    const account = await createTestAccount('twofactor')
    await confirm(account)
    const { mail: updateMail } = await requestMail(account, 'com.atproto.server.requestEmailUpdate')
    const on = await xrpcPost(
      'com.atproto.server.updateEmail',
      { email: account.email, emailAuthFactor: true, token: codeIn(updateMail) },
      account.accessJwt,
    )
    expect(on.status).toBe(200)
    expect(await session(account)).toMatchObject({ emailAuthFactor: true, emailConfirmed: true })

    const login = (extra: Record<string, unknown> = {}) =>
      xrpcPost('com.atproto.server.createSession', {
        identifier: account.handle,
        password: account.password,
        ...extra,
      })
    const before = await lastMailId(account.email)
    const first = await login()
    expectError(first, 401, 'AuthFactorTokenRequired')
    const mail = await nextMail(account.email, before)
    expect(mail.subject).toMatch(/sign-in code/)
    const code = codeIn(mail)

    expectError(await login({ authFactorToken: otherCode(code) }), 400, 'InvalidToken')
    const wrongPassword = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: 'not the password',
      authFactorToken: code,
    })
    expect(wrongPassword.status).toBe(401)
    const signedIn = await login({ authFactorToken: code })
    expect(signedIn.status).toBe(200)
    expect(signedIn.body).toMatchObject({ did: account.did, emailAuthFactor: true })
    expectError(await login({ authFactorToken: code }), 400, 'InvalidToken')
  })
})

describe('a PDS without a mailer', () => {
  it('says so in describeServer and issues nothing it cannot send (501), logging no code', async () => {
    const account = await createTestAccount('nomailer')
    const dispatch = dispatcherWith({ PDS_MAILER: '' })
    const described = await dispatch('com.atproto.server.describeServer')
    expect(await described.json()).toMatchObject({ 'dev.edgepds.email': { canSend: false } })
    const logged: unknown[] = []
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(...args)),
    )
    try {
      for (const nsid of [
        'com.atproto.server.requestEmailConfirmation',
        'com.atproto.server.requestAccountDelete',
      ]) {
        const res = await dispatch(nsid, {
          method: 'POST',
          headers: { authorization: `Bearer ${account.accessJwt}` },
        })
        expect(res.status).toBe(501)
        expect(await res.json()).toMatchObject({ error: 'EmailNotConfigured' })
      }
      const reset = await dispatch('com.atproto.server.requestPasswordReset', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: account.email }),
      })
      expect(reset.status).toBe(501)
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM account_token WHERE did = ?')
      .bind(account.did)
      .first<{ n: number }>()
    expect(rows?.n).toBe(0)
    expect(logged.map(String).join('\n')).not.toMatch(/[A-Z2-9]{5}-[A-Z2-9]{5}/)
    // The mailbox route (worker/app.ts) serves only when this says so.
    const config = readConfig({ ...(env as unknown as ConfigEnv), PDS_MAILER: '' })
    expect(devMailboxEnabled(config)).toBe(false)
  })

  it('the operator method says what is missing', async () => {
    const password = (env as unknown as { PDS_ADMIN_PASSWORD: string }).PDS_ADMIN_PASSWORD
    const admin = { authorization: `Basic ${btoa(`admin:${password}`)}` }
    const none = await dispatcherWith({ PDS_MAILER: '' })('dev.edgepds.admin.getMailStatus', {
      headers: admin,
    })
    expect(await none.json()).toMatchObject({
      mailer: 'none',
      canSend: false,
      problem: expect.stringContaining('PDS_MAILER'),
    })
    const dev = await xrpcGet('dev.edgepds.admin.getMailStatus', {}, undefined)
    expect(dev.status).toBe(401)
  })
})
