/**
 * How tests get a one-off account token (account deletion, PLC operation signature) that the
 * PDS mailed to the user: from the development mailbox (`PDS_MAILER=dev`), where a developer
 * reads it too. Runs in Node and in workerd: the caller passes its fetch (SELF.fetch in worker
 * tests). The mail is sent before the request that asks for it answers.
 */
export interface AccountTokenSource {
  fetch: (url: string, init?: RequestInit) => Promise<Response>
  /** The PDS, e.g. `http://localhost:2583`. */
  baseUrl: string
}

/** The subject line each purpose's mail starts with (src/mail/compose.ts). */
const SUBJECTS = {
  delete_account: 'Code to delete your account',
  plc_operation: 'Code to change your identity',
} as const

export async function readAccountToken(
  source: AccountTokenSource,
  email: string,
  purpose: keyof typeof SUBJECTS,
): Promise<string> {
  const url = `${source.baseUrl}/dev/mailbox/messages?to=${encodeURIComponent(email)}`
  const res = await source.fetch(url)
  if (res.status !== 200) throw new Error(`mailbox: ${res.status} ${await res.text()}`)
  const { messages } = (await res.json()) as { messages: { subject: string; text: string }[] }
  // Newest first: the code just asked for.
  const mail = messages.find((m) => m.subject.startsWith(SUBJECTS[purpose]))
  const code = mail && /\b([A-Z2-9]{5}-[A-Z2-9]{5})\b/.exec(mail.text)?.[1]
  if (!code) throw new Error(`no ${purpose} mail to ${email}`)
  return code
}
