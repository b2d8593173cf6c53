/**
 * One interface for every way mail leaves this PDS (`PDS_MAILER`): Cloudflare's Email Service
 * binding, Resend's HTTP API, or the development mailbox. Callers compose a `Mail` and do not
 * know which adapter sends it.
 */
import { DomainError } from '../errors.ts'

export interface Mail {
  /** The sender as configured, `Name <address>` or a bare address. */
  from: string
  to: string
  subject: string
  text: string
  html: string
  /** When it was composed; the development mailbox keeps it as the `Date` header. */
  date: Date
  /**
   * `<random@hostname>`; the development mailbox keeps it. Cloudflare and Resend set `Date` and
   * `Message-ID` themselves (Cloudflare refuses both), so those adapters do not send ours.
   */
  messageId: string
  /** The code the mail carries: the development mailbox prints it; the others ignore it. */
  code?: string
}

export interface Mailer {
  readonly kind: 'cloudflare' | 'resend' | 'dev'
  /** Resolves with the provider's message id once the provider has accepted the mail. */
  send(mail: Mail): Promise<{ providerId: string }>
}

/** The provider did not accept the mail (502). */
export class MailNotSentError extends DomainError {
  constructor(message: string) {
    super('upstream-failure', 'EmailNotSent', message)
    this.name = 'MailNotSentError'
  }
}

/** This PDS has no (working) mailer: 501, and nothing is issued that could not be sent. */
export class MailerNotConfiguredError extends DomainError {
  constructor(message = 'This PDS cannot send email: its operator has not set up a mailer') {
    super('not-implemented', 'EmailNotConfigured', message)
    this.name = 'MailerNotConfiguredError'
  }
}

/** `PDS <noreply@pds.example.com>` → its parts; a bare address has no name. */
export function parseSender(from: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(from)
  if (!match) return { email: from.trim() }
  const name = match[1]!.replace(/^"(.*)"$/, '$1').trim()
  return name ? { email: match[2]!.trim(), name } : { email: match[2]!.trim() }
}
