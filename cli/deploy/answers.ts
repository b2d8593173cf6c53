/**
 * The operator's answers: a flag, else an environment variable, else the previous run's
 * value (as the default of the question), else asked. Unattended (`--yes`, or no terminal),
 * the defaults are taken and a question without one is an error naming its flag.
 */
import type { Asker } from '../shared/prompt.ts'
import {
  type Answers,
  checkEmail,
  checkHandleDomains,
  checkHostname,
  checkMailer,
  type Mailer,
  parseBool,
  parseHandleDomains,
} from './settings.ts'

export interface AnswerSources {
  flags: Partial<Record<keyof FlagNames, string>>
  env: NodeJS.ProcessEnv
  /** Settings of the deployment's earlier run for a hostname, if any. */
  previousFor: (hostname: string) => Record<string, string> | null
}

/** Flag → environment variable for each answer. */
export const FLAG_NAMES = {
  hostname: 'PDS_HOSTNAME',
  'handle-domains': 'PDS_HANDLE_DOMAINS',
  'contact-email': 'PDS_CONTACT_EMAIL',
  'invite-required': 'PDS_INVITE_REQUIRED',
  mailer: 'PDS_MAILER',
  'email-from': 'PDS_EMAIL_FROM',
} as const
type FlagNames = typeof FLAG_NAMES

export async function collectAnswers(
  asker: Asker,
  sources: AnswerSources,
  hostnameDefault: string | undefined,
): Promise<Answers> {
  const given = (flag: keyof FlagNames): string | undefined =>
    sources.flags[flag]?.trim() || sources.env[FLAG_NAMES[flag]]?.trim() || undefined
  const answer = async (
    flag: keyof FlagNames,
    message: string,
    fallback: string | undefined,
    validate: (v: string) => string | null,
  ): Promise<string> => {
    const value = given(flag)
    if (value !== undefined) {
      const problem = validate(value)
      if (problem) throw new Error(`--${flag}: ${problem}`)
      return value
    }
    return asker.ask({
      message,
      flag: `--${flag}`,
      env: FLAG_NAMES[flag],
      default: fallback,
      validate,
    })
  }

  const hostname = (
    await answer('hostname', 'PDS hostname (e.g. pds.example.com)', hostnameDefault, checkHostname)
  ).toLowerCase()
  const earlier = sources.previousFor(hostname)
  const previous = (name: string): string | undefined => earlier?.[name] || undefined
  const handleDomains = parseHandleDomains(
    await answer(
      'handle-domains',
      'Handle domain(s), comma-separated (users get alice<domain>)',
      previous('PDS_HANDLE_DOMAINS') ?? `.${hostname}`,
      checkHandleDomains,
    ),
  )
  const contactEmail = await answer(
    'contact-email',
    'Contact email (shown by describeServer)',
    previous('PDS_CONTACT_EMAIL'),
    checkEmail,
  )
  const inviteRequired = parseBool(
    await answer(
      'invite-required',
      'Require an invite code to sign up? (yes/no)',
      previous('PDS_INVITE_REQUIRED') ?? 'true',
      (v) => (parseBool(v) === null ? 'yes or no' : null),
    ),
  )!
  const mailer = (await answer(
    'mailer',
    'Mailer for email confirmation and password resets (cloudflare, resend, none)',
    previous('PDS_MAILER') ?? 'none',
    checkMailer,
  )) as Mailer
  const emailFrom =
    mailer === 'none'
      ? null
      : await answer(
          'email-from',
          'Sender address for email',
          previous('PDS_EMAIL_FROM') ?? `noreply@${hostname}`,
          checkEmail,
        )
  return { hostname, handleDomains, contactEmail, inviteRequired, mailer, emailFrom }
}
