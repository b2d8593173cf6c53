/**
 * Cloudflare Email Service: the Worker's `send_email` binding named `EMAIL`. The sending domain
 * is the operator's, onboarded in the Cloudflare dashboard; the binding signs (DKIM) and sets
 * `Date` and `Message-ID`.
 */
import {
  type Mail,
  type Mailer,
  MailerNotConfiguredError,
  MailNotSentError,
  parseSender,
} from './mailer.ts'

/** The part of the binding this adapter uses (the structured form of `send`). */
export interface SendEmailBinding {
  send(message: {
    from: string | { email: string; name: string }
    to: string
    subject: string
    text: string
    html: string
  }): Promise<{ messageId: string }>
}

export function cloudflareMailer(binding: SendEmailBinding | undefined): Mailer {
  return {
    kind: 'cloudflare',
    async send(mail: Mail) {
      if (!binding) {
        throw new MailerNotConfiguredError(
          'This PDS cannot send email: PDS_MAILER=cloudflare needs the send_email binding EMAIL',
        )
      }
      const sender = parseSender(mail.from)
      try {
        const result = await binding.send({
          from: sender.name ? { email: sender.email, name: sender.name } : sender.email,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
        })
        return { providerId: result.messageId }
      } catch (err) {
        throw new MailNotSentError(`Cloudflare Email Service refused the mail: ${errorText(err)}`)
      }
    },
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
