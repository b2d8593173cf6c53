/** The mailer `PDS_MAILER` chooses, built for one request's `env`. */
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import { cloudflareMailer, type SendEmailBinding } from './cloudflare-mailer.ts'
import { devMailbox } from './dev-mailbox.ts'
import type { Mailer } from './mailer.ts'
import { resendMailer } from './resend-mailer.ts'

/** Null when no mailer is configured. */
export function mailerFor(env: Env, config: Config, db: Db): Mailer | null {
  switch (config.mail?.mailer) {
    case 'cloudflare':
      return cloudflareMailer((env as { EMAIL?: SendEmailBinding }).EMAIL)
    case 'resend':
      return resendMailer({
        apiUrl: config.mail.resendApiUrl,
        apiKey: config.secrets.resendApiKey ?? '',
      })
    case 'dev':
      return devMailbox(db, config.publicUrl)
    default:
      return null
  }
}

/** What describeServer and the operator tools say about mail. */
export interface MailStatus {
  mailer: 'cloudflare' | 'resend' | 'dev' | 'none'
  /** False when mail cannot leave: no mailer, or the Cloudflare binding is missing. */
  canSend: boolean
}

export function mailStatus(env: Env, config: Config): MailStatus {
  const mailer = config.mail?.mailer ?? 'none'
  const canSend =
    mailer === 'cloudflare' ? (env as { EMAIL?: unknown }).EMAIL !== undefined : mailer !== 'none'
  return { mailer, canSend }
}
