/**
 * What a deployment is made of: the operator's answers and the names derived from them. The
 * names come from the hostname alone, so that a second run finds what the first created.
 */
export type Mailer = 'cloudflare' | 'resend' | 'none'
export const MAILERS: readonly Mailer[] = ['cloudflare', 'resend', 'none']

export interface Answers {
  hostname: string
  /** Each starting with a dot (`.example.com`). */
  handleDomains: string[]
  contactEmail: string
  inviteRequired: boolean
  mailer: Mailer
  /** Sender address; required with a mailer. */
  emailFrom: string | null
}

export interface Deployment extends Answers {
  accountId: string
  /** Worker, D1 database and R2 bucket share this name. */
  name: string
}

/** `pds.example.com` → `pds-example-com` (valid as a Worker, D1 and R2 name). */
export function resourceName(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

export function checkHostname(value: string): string | null {
  const labels = value.toLowerCase().split('.')
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    return `not a hostname: ${value} (e.g. pds.example.com)`
  }
  if (value === 'localhost' || value.endsWith('.localhost')) return 'a public hostname is needed'
  return null
}

export function parseHandleDomains(value: string): string[] {
  return value
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean)
    .map((d) => (d.startsWith('.') ? d : `.${d}`))
}

export function checkHandleDomains(value: string): string | null {
  const domains = parseHandleDomains(value)
  if (domains.length === 0) return 'at least one handle domain is needed'
  for (const domain of domains) {
    if (checkHostname(domain.slice(1))) return `not a domain: ${domain}`
  }
  return null
}

export function checkEmail(value: string): string | null {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? null : `not an email address: ${value}`
}

export function checkMailer(value: string): string | null {
  return MAILERS.includes(value as Mailer) ? null : `the mailer is one of ${MAILERS.join(', ')}`
}

export function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on', 'y'].includes(v)) return true
  if (['false', '0', 'no', 'off', 'n'].includes(v)) return false
  return null
}
