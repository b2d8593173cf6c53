/**
 * The `cloudflare` mailer against Miniflare's own `send_email` binding (configured in
 * vitest.config.ts: sender noreply@pds.test, one allowed destination, alice@example.com): what
 * the adapter hands the binding, what the binding refuses, and a whole request through it.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { type ConfigEnv, readConfig } from '../../src/config.ts'
import { openRequestSessions } from '../../src/db/session.ts'
import { cloudflareMailer, type SendEmailBinding } from '../../src/mail/cloudflare-mailer.ts'
import { type Mail, MailerNotConfiguredError, MailNotSentError } from '../../src/mail/mailer.ts'
import { dispatchXrpc } from '../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../src/xrpc/errors.ts'
import { dispatchDeps } from '../../worker/dispatch-deps.ts'
import { createTestAccount, xrpcPost } from './helpers/xrpc.ts'

const binding = (env as unknown as { EMAIL: SendEmailBinding }).EMAIL

/** The real binding, with each message it was handed kept for the test to read. */
function recording(inner: SendEmailBinding) {
  const sent: Parameters<SendEmailBinding['send']>[0][] = []
  const wrapped: SendEmailBinding = {
    async send(message) {
      sent.push(message)
      return inner.send(message)
    },
  }
  return { sent, binding: wrapped }
}

function mail(to: string): Mail {
  return {
    from: 'PDS <noreply@pds.test>',
    to,
    subject: 'Your code',
    text: 'Your code: ABCDE-FGHJK\n',
    html: '<p>Your code: <b>ABCDE-FGHJK</b></p>',
    date: new Date(),
    messageId: '<abc@pds.test>',
    code: 'ABCDE-FGHJK',
  }
}

describe('the cloudflare mailer', () => {
  it('sends through the binding: sender parsed, text and HTML, no Date or Message-ID of ours', async () => {
    const rec = recording(binding)
    const result = await cloudflareMailer(rec.binding).send(mail('alice@example.com'))
    expect(result.providerId).toMatch(/\S/)
    expect(rec.sent).toEqual([
      {
        from: { email: 'noreply@pds.test', name: 'PDS' },
        to: 'alice@example.com',
        subject: 'Your code',
        text: 'Your code: ABCDE-FGHJK\n',
        html: '<p>Your code: <b>ABCDE-FGHJK</b></p>',
      },
    ])
  })

  it('reports what the binding refuses (a destination it does not allow) as EmailNotSent', async () => {
    const err = await cloudflareMailer(binding)
      .send(mail('mallory@example.com'))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailNotSentError)
    expect((err as MailNotSentError).message).toMatch(/not allowed/)
  })

  it('without the binding, says the PDS cannot send', async () => {
    const err = await cloudflareMailer(undefined)
      .send(mail('alice@example.com'))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailerNotConfiguredError)
  })

  it('a whole request: requestEmailConfirmation mails the code through the binding', async () => {
    const alice = await createTestAccount('cfalice')
    // The binding allows one destination: give this account that address.
    const moved = await xrpcPost(
      'com.atproto.server.updateEmail',
      { email: 'alice@example.com' },
      alice.accessJwt,
    )
    expect(moved.status).toBe(200)
    const rec = recording(binding)
    const call = dispatcher(rec.binding)
    const logged: unknown[] = []
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(...args)),
    )
    const res = await call('com.atproto.server.requestEmailConfirmation', alice.accessJwt).finally(
      () => {
        for (const spy of spies) spy.mockRestore()
      },
    )
    expect(res.status).toBe(200)
    expect(rec.sent).toHaveLength(1)
    const sent = rec.sent[0]!
    expect(sent.to).toBe('alice@example.com')
    expect(sent.from).toEqual({ email: 'noreply@pds.test', name: 'PDS' })
    const code = /Your code: ([A-Z2-9]{5}-[A-Z2-9]{5})/.exec(sent.text)![1]!
    expect(sent.html).toContain(code)
    // A code is a credential: with a real mailer, the log never holds it.
    expect(logged.map(String).join('\n')).not.toContain(code)
    const confirmed = await xrpcPost(
      'com.atproto.server.confirmEmail',
      { email: 'alice@example.com', token: code },
      alice.accessJwt,
    )
    expect(confirmed.status).toBe(200)
  })

  it('a refused mail is a 502 and leaves no code behind', async () => {
    const bob = await createTestAccount('cfbob')
    const res = await dispatcher(binding)(
      'com.atproto.server.requestEmailConfirmation',
      bob.accessJwt,
    )
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ error: 'EmailNotSent' })
    const row = await env.DB.prepare('SELECT count(*) AS n FROM account_token WHERE did = ?')
      .bind(bob.did)
      .first<{ n: number }>()
    expect(row?.n).toBe(0)
  })
})

/** POSTs through the dispatcher with PDS_MAILER=cloudflare and `email` as the EMAIL binding. */
function dispatcher(email: SendEmailBinding) {
  const config = readConfig({
    ...(env as unknown as ConfigEnv),
    PDS_MAILER: 'cloudflare',
    PDS_EMAIL_FROM: 'PDS <noreply@pds.test>',
  })
  const workerEnv = { ...env, EMAIL: email } as unknown as Env
  return async (nsid: string, accessJwt: string): Promise<Response> => {
    const request = new Request(`http://localhost:2583/xrpc/${nsid}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessJwt}` },
    })
    const pending: Promise<unknown>[] = []
    try {
      return await dispatchXrpc(
        nsid,
        request,
        dispatchDeps(
          workerEnv,
          config,
          (p) => pending.push(p),
          openRequestSessions(workerEnv.DB, request),
        ),
      )
    } catch (err) {
      return toErrorResponse(err)
    } finally {
      await Promise.all(pending)
    }
  }
}
