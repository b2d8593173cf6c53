/**
 * Email sign-in codes on the OAuth sign-in page: an account with `emailAuthFactor` on is asked
 * for the code mailed to it (read from the development mailbox), and signs in with it.
 */
import { AtpAgent } from '@atproto/api'
import { describe, expect, inject, it } from 'vitest'
import { PASSWORD } from './oauth/accounts.ts'
import { csrfOf, RawOAuthClient } from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const REDIRECT = 'http://127.0.0.1:7781/cb'

/** The code in the newest mail to `to` after `after` (a mail id), waiting for it. */
async function mailedCode(to: string, after: number): Promise<{ id: number; code: string }> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const res = await fetch(`${pdsUrl}/dev/mailbox/messages?to=${encodeURIComponent(to)}`)
    const { messages } = (await res.json()) as { messages: { id: number; text: string }[] }
    const mail = messages.find((m) => m.id > after)
    const code = mail && /Your code: ([A-Z2-9]{5}-[A-Z2-9]{5})/.exec(mail.text)?.[1]
    if (mail && code) return { id: mail.id, code }
    if (Date.now() > deadline) throw new Error(`no mail to ${to}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('email sign-in codes on the OAuth pages', () => {
  it('asks for the mailed code, and signs in with it', async () => {
    const agent = new AtpAgent({ service: pdsUrl })
    const handle = `oauthcode${Math.random().toString(36).slice(2, 10)}.test`
    const email = `${handle}@example.com`
    await agent.createAccount({ handle, email, password: PASSWORD })
    const server = agent.com.atproto.server
    await server.requestEmailConfirmation()
    const confirmation = await mailedCode(email, 0)
    await server.confirmEmail({ email, token: confirmation.code })
    await server.requestEmailUpdate()
    const update = await mailedCode(email, confirmation.id)
    await server.updateEmail({ email, emailAuthFactor: true, token: update.code })

    const scope = 'atproto'
    const clientId = `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope })}`
    const client = await RawOAuthClient.create({ pdsUrl, clientId, redirectUri: REDIRECT, scope })
    const { requestUri } = await client.par()
    const page = await fetch(
      `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`,
    )
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!
    const csrf = csrfOf(await page.text())
    const signIn = (extra: Record<string, string> = {}) =>
      fetch(`${pdsUrl}/oauth/authorize/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          csrf,
          request_uri: requestUri,
          identifier: handle,
          password: PASSWORD,
          ...extra,
        }),
      })
    const asked = await signIn()
    expect(asked.status).toBe(401)
    const form = await asked.text()
    expect(form).toContain('We sent a sign-in code')
    expect(form).toContain('name="code"')
    const mailed = await mailedCode(email, update.id)
    expect((await signIn({ code: 'WRONG-CODE0' })).status).toBe(401)
    expect((await signIn({ code: mailed.code })).status).toBe(303)
  })
})
