/**
 * Resend's HTTP API (`POST /emails` with a bearer key), for operators who already send through
 * it. `PDS_RESEND_API_URL` moves it to another origin (tests use a loopback stand-in).
 */
import { type Mail, type Mailer, MailNotSentError } from './mailer.ts'

export interface ResendOptions {
  apiUrl: string
  apiKey: string
  /** How long Resend may take to accept a mail. */
  timeoutMs?: number
}

export function resendMailer({ apiUrl, apiKey, timeoutMs = 10_000 }: ResendOptions): Mailer {
  return {
    kind: 'resend',
    async send(mail: Mail) {
      let res: Response
      try {
        res = await fetch(`${apiUrl}/emails`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            from: mail.from,
            to: [mail.to],
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
          }),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        throw new MailNotSentError(`Resend could not be reached: ${(err as Error).message}`)
      }
      // Resend's error bodies name the problem (bad sender domain, bad key) and carry no secret.
      const body = (await res.json().catch(() => null)) as { id?: unknown; message?: unknown }
      if (!res.ok || typeof body?.id !== 'string') {
        const detail = typeof body?.message === 'string' ? `: ${body.message}` : ''
        throw new MailNotSentError(`Resend refused the mail (HTTP ${res.status})${detail}`)
      }
      return { providerId: body.id }
    },
  }
}
