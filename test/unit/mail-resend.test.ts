/**
 * The `resend` mailer against a loopback stand-in of Resend's API that records each request:
 * the request Resend documents (POST /emails, bearer key, JSON), its answer, and its refusals.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Mail } from '../../src/mail/mailer.ts'
import { MailNotSentError } from '../../src/mail/mailer.ts'
import { resendMailer } from '../../src/mail/resend-mailer.ts'

interface Recorded {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: unknown
}

const recorded: Recorded[] = []
let answer: { status: number; body: unknown } = { status: 200, body: { id: 'resend-id-1' } }
let server: Server
let apiUrl: string

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let raw = ''
    for await (const chunk of req) raw += chunk
    recorded.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: JSON.parse(raw),
    })
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(answer.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
beforeEach(() => {
  recorded.length = 0
  answer = { status: 200, body: { id: 'resend-id-1' } }
})

const mail: Mail = {
  from: 'PDS <noreply@pds.example.com>',
  to: 'alice@example.com',
  subject: 'Your sign-in code (pds.example.com)',
  text: 'Your code: ABCDE-FGHJK\n',
  html: '<p>Your code: <b>ABCDE-FGHJK</b></p>',
  date: new Date('2026-12-01T00:00:00Z'),
  messageId: '<abc@pds.example.com>',
  code: 'ABCDE-FGHJK',
}

describe('the resend mailer', () => {
  it('POSTs /emails with the bearer key and the mail as JSON', async () => {
    const mailer = resendMailer({ apiUrl, apiKey: 're_test_key' })
    expect(await mailer.send(mail)).toEqual({ providerId: 'resend-id-1' })
    expect(recorded).toHaveLength(1)
    const [req] = recorded
    expect(req!.method).toBe('POST')
    expect(req!.path).toBe('/emails')
    expect(req!.headers.authorization).toBe('Bearer re_test_key')
    expect(req!.headers['content-type']).toBe('application/json')
    expect(req!.body).toEqual({
      from: 'PDS <noreply@pds.example.com>',
      to: ['alice@example.com'],
      subject: 'Your sign-in code (pds.example.com)',
      text: 'Your code: ABCDE-FGHJK\n',
      html: '<p>Your code: <b>ABCDE-FGHJK</b></p>',
    })
  })

  it('a refusal is EmailNotSent with Resend’s reason, never the key', async () => {
    answer = { status: 403, body: { statusCode: 403, message: 'The domain is not verified' } }
    const err = await resendMailer({ apiUrl, apiKey: 're_secret' })
      .send(mail)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailNotSentError)
    expect((err as Error).message).toBe(
      'Resend refused the mail (HTTP 403): The domain is not verified',
    )
    expect((err as Error).message).not.toContain('re_secret')
  })

  it('an answer without an id, or no answer, is EmailNotSent', async () => {
    answer = { status: 200, body: {} }
    await expect(resendMailer({ apiUrl, apiKey: 'k' }).send(mail)).rejects.toBeInstanceOf(
      MailNotSentError,
    )
    const closed = resendMailer({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k', timeoutMs: 2000 })
    await expect(closed.send(mail)).rejects.toBeInstanceOf(MailNotSentError)
  })
})
