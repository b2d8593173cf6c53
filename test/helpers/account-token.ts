/**
 * How tests get a one-off code (account deletion, PLC operation signature...) the PDS mailed to
 * the user: from the development mailbox (`PDS_MAILER=dev`), `/dev/mailbox/messages?to=`, the
 * newest mail to the address for that purpose. Runs in Node and in workerd: the caller passes
 * its fetch (SELF.fetch in worker tests).
 */

/** How each purpose's mail is told apart (its subject, src/mail/compose.ts). */
const SUBJECTS = {
  delete_account: /^Code to delete your account /,
  plc_operation: /^Code to change your identity \(PLC operation\) /,
} as const

export interface AccountTokenSource {
  fetch: (url: string, init?: RequestInit) => Promise<Response>
  /** The PDS, e.g. `http://localhost:2583`. */
  baseUrl: string
}

export async function readAccountToken(
  source: AccountTokenSource,
  email: string,
  purpose: keyof typeof SUBJECTS,
  timeoutMs = 10_000,
): Promise<string> {
  const url = `${source.baseUrl}/dev/mailbox/messages?to=${encodeURIComponent(email)}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await source.fetch(url)
    if (res.status !== 200) throw new Error(`mailbox: ${res.status} ${await res.text()}`)
    const { messages } = (await res.json()) as { messages: { subject: string; text: string }[] }
    const mail = messages.find((m) => SUBJECTS[purpose].test(m.subject))
    const code = mail && /Your code: ([A-Z2-9]{5}-[A-Z2-9]{5})/.exec(mail.text)?.[1]
    if (code) return code
    if (Date.now() > deadline) throw new Error(`no ${purpose} mail to ${email}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
