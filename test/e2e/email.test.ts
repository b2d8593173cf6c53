/**
 * Every account flow that needs email, end to end: the official client (@atproto/api) against
 * `npm run dev` (scripts/dev.mjs, PDS_MAILER=dev), each code read from the development mailbox
 * the way a developer reads it (`/dev/mailbox`).
 */
import { AtpAgent, CredentialSession } from '@atproto/api'
import { describe, expect, inject, it } from 'vitest'

const pdsUrl = inject('pdsUrl')
const password = 'correct horse battery staple'

interface DevMail {
  id: number
  date: string
  messageId: string
  to: string
  subject: string
  text: string
  html: string
}

async function mailTo(to: string): Promise<DevMail[]> {
  const res = await fetch(`${pdsUrl}/dev/mailbox/messages?to=${encodeURIComponent(to)}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { messages: DevMail[] }).messages
}

/** Runs `action`, then waits for the mail it sends to `to` and returns its code. */
async function codeFrom(to: string, action: () => Promise<unknown>): Promise<string> {
  const before = (await mailTo(to))[0]?.id ?? 0
  await action()
  const deadline = Date.now() + 10_000
  for (;;) {
    const mail = (await mailTo(to)).find((m) => m.id > before)
    if (mail) {
      const match = /Your code: ([A-Z2-9]{5}-[A-Z2-9]{5})/.exec(mail.text)
      expect(match, mail.text).not.toBeNull()
      return match![1]!
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function newAccount(prefix: string) {
  const session = new CredentialSession(new URL(pdsUrl))
  const agent = new AtpAgent(session)
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  const email = `${handle}@example.com`
  await agent.createAccount({ handle, email, password })
  return { agent, session, handle, email, did: agent.session!.did }
}

type Account = Awaited<ReturnType<typeof newAccount>>

async function confirm({ agent, email }: Account): Promise<void> {
  const token = await codeFrom(email, () => agent.com.atproto.server.requestEmailConfirmation())
  await agent.com.atproto.server.confirmEmail({ email, token })
}

async function errorOf(promise: Promise<unknown>): Promise<{ status: number; error: string }> {
  const err = (await promise.then(
    () => null,
    (e: unknown) => e,
  )) as { status: number; error: string } | null
  expect(err, 'expected the call to fail').not.toBeNull()
  return { status: err!.status, error: err!.error }
}

describe('email with @atproto/api and the development mailbox', () => {
  it('confirms an address', async () => {
    const account = await newAccount('confirm')
    expect((await account.agent.com.atproto.server.getSession()).data).toMatchObject({
      emailConfirmed: false,
      emailAuthFactor: false,
    })
    await confirm(account)
    expect((await account.agent.com.atproto.server.getSession()).data).toMatchObject({
      email: account.email,
      emailConfirmed: true,
    })
    const page = await fetch(`${pdsUrl}/dev/mailbox?to=${encodeURIComponent(account.email)}`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Confirm your email address')
  })

  it('changes the address with the code mailed to the old one', async () => {
    const account = await newAccount('change')
    await confirm(account)
    const server = account.agent.com.atproto.server
    const newEmail = `new-${account.email}`
    let tokenRequired: boolean | undefined
    const token = await codeFrom(account.email, async () => {
      tokenRequired = (await server.requestEmailUpdate()).data.tokenRequired
    })
    expect(tokenRequired).toBe(true)
    expect(await errorOf(server.updateEmail({ email: newEmail }))).toEqual({
      status: 400,
      error: 'TokenRequired',
    })
    await server.updateEmail({ email: newEmail, token })
    expect((await server.getSession()).data).toMatchObject({
      email: newEmail,
      emailConfirmed: false,
    })
    // The new address confirms through its own mail.
    const confirmNew = await codeFrom(newEmail, () => server.requestEmailConfirmation())
    await server.confirmEmail({ email: newEmail, token: confirmNew })
    expect((await server.getSession()).data.emailConfirmed).toBe(true)
  })

  it('resets the password: every old session is refused, the new password works', async () => {
    const account = await newAccount('reset')
    const appPassword = (
      await account.agent.com.atproto.server.createAppPassword({ name: 'phone' })
    ).data.password
    const phone = new AtpAgent({ service: pdsUrl })
    await phone.login({ identifier: account.handle, password: appPassword })
    const oldRefreshTokens = [account.session.session!.refreshJwt, phone.session!.refreshJwt]

    const anonymous = new AtpAgent({ service: pdsUrl })
    const token = await codeFrom(account.email, () =>
      anonymous.com.atproto.server.requestPasswordReset({ email: account.email }),
    )
    expect(
      await errorOf(anonymous.com.atproto.server.resetPassword({ token, password: 'short' })),
    ).toEqual({ status: 400, error: 'InvalidPassword' })
    await anonymous.com.atproto.server.resetPassword({ token, password: 'a brand new password' })
    expect(
      await errorOf(
        anonymous.com.atproto.server.resetPassword({ token, password: 'yet another one' }),
      ),
    ).toEqual({ status: 400, error: 'InvalidToken' })

    for (const refreshJwt of oldRefreshTokens) {
      const res = await fetch(`${pdsUrl}/xrpc/com.atproto.server.refreshSession`, {
        method: 'POST',
        headers: { authorization: `Bearer ${refreshJwt}` },
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: 'ExpiredToken' })
    }
    await expect(
      new AtpAgent({ service: pdsUrl }).login({ identifier: account.handle, password }),
    ).rejects.toThrow()
    const again = new AtpAgent({ service: pdsUrl })
    await again.login({ identifier: account.handle, password: 'a brand new password' })
    expect(again.session?.did).toBe(account.did)
  })

  it('deletes the account with the mailed code', async () => {
    const account = await newAccount('delete')
    const token = await codeFrom(account.email, () =>
      account.agent.com.atproto.server.requestAccountDelete(),
    )
    const anonymous = new AtpAgent({ service: pdsUrl })
    expect(
      await errorOf(
        anonymous.com.atproto.server.deleteAccount({
          did: account.did,
          password,
          token: token === 'ABCDE-FGHJK' ? 'ABCDE-FGHJM' : 'ABCDE-FGHJK',
        }),
      ),
    ).toEqual({ status: 400, error: 'InvalidToken' })
    await anonymous.com.atproto.server.deleteAccount({ did: account.did, password, token })
    await expect(
      new AtpAgent({ service: pdsUrl }).login({ identifier: account.handle, password }),
    ).rejects.toThrow()
  })

  it('signs in with a code once emailAuthFactor is on', async () => {
    const account = await newAccount('twofactor')
    await confirm(account)
    const server = account.agent.com.atproto.server
    const updateToken = await codeFrom(account.email, () => server.requestEmailUpdate())
    await server.updateEmail({ email: account.email, emailAuthFactor: true, token: updateToken })
    expect((await server.getSession()).data.emailAuthFactor).toBe(true)

    const device = new AtpAgent({ service: pdsUrl })
    let refused: { status: number; error: string } | undefined
    const code = await codeFrom(account.email, async () => {
      refused = await errorOf(device.login({ identifier: account.handle, password }))
    })
    expect(refused).toEqual({ status: 401, error: 'AuthFactorTokenRequired' })
    await device.login({ identifier: account.handle, password, authFactorToken: code })
    expect(device.session?.did).toBe(account.did)
    expect(device.session?.emailAuthFactor).toBe(true)
  })

  it('a password reset for an unknown address looks exactly like one for a known address', async () => {
    const known = await Promise.all([1, 2, 3, 4].map(() => newAccount('same')))
    const ask = async (email: string) => {
      const started = performance.now()
      const res = await fetch(`${pdsUrl}/xrpc/com.atproto.server.requestPasswordReset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      })
      const body = await res.text()
      return { status: res.status, body, ms: performance.now() - started }
    }
    const knownTimes: number[] = []
    const unknownTimes: number[] = []
    const answers = new Set<string>()
    // Interleaved, two rounds: each address is asked about at most twice (5 per hour allowed).
    for (let round = 0; round < 2; round++) {
      for (const account of known) {
        const a = await ask(account.email)
        const b = await ask(`nobody-${Math.random().toString(36).slice(2)}@example.com`)
        knownTimes.push(a.ms)
        unknownTimes.push(b.ms)
        answers.add(JSON.stringify({ status: a.status, body: a.body }))
        answers.add(JSON.stringify({ status: b.status, body: b.body }))
      }
    }
    expect([...answers]).toEqual([JSON.stringify({ status: 200, body: '' })])
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
    // The lookup and the mail happen after the answer: only noise separates the two.
    expect(Math.abs(median(knownTimes) - median(unknownTimes))).toBeLessThan(40)
  })
})
