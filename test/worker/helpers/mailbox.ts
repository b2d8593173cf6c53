/** The development mailbox as the worker tests read it: `/dev/mailbox/messages?to=`. */
import { SELF } from 'cloudflare:test'
import { BASE } from './xrpc.ts'

export interface DevMail {
  id: number
  messageId: string
  date: string
  from: string
  to: string
  subject: string
  text: string
  html: string
}

export async function mailTo(to: string): Promise<DevMail[]> {
  const res = await SELF.fetch(`${BASE}/dev/mailbox/messages?to=${encodeURIComponent(to)}`)
  if (res.status !== 200) throw new Error(`mailbox: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { messages: DevMail[] }).messages
}

/** The newest mail to `to` after mail `afterId` (some are sent after the response), polled. */
export async function nextMail(to: string, afterId = 0, timeoutMs = 5000): Promise<DevMail> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const mail = (await mailTo(to)).find((m) => m.id > afterId)
    if (mail) return mail
    if (Date.now() > deadline) throw new Error(`no mail to ${to} after #${afterId}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The id of the newest mail to `to` (0 when none): what `nextMail` waits past. */
export async function lastMailId(to: string): Promise<number> {
  return (await mailTo(to))[0]?.id ?? 0
}

export function codeIn(mail: DevMail): string {
  const match = /Your code: ([A-Z2-9]{5}-[A-Z2-9]{5})/.exec(mail.text)
  if (!match) throw new Error(`no code in mail "${mail.subject}"`)
  return match[1]!
}
