/**
 * The development mailbox (`PDS_MAILER=dev`, refused outside `PDS_DEV_MODE`): each mail is kept
 * in D1 and shown at `/dev/mailbox` of the local PDS, and its code is printed where `npm run
 * dev` runs. Nothing leaves the machine.
 */
import { deleteDevMailBefore, insertDevMail } from '../db/dev-mail.ts'
import type { Db } from '../db/index.ts'
import type { Mail, Mailer } from './mailer.ts'

/** Local mail older than this is dropped as new mail arrives. */
const KEEP_MS = 7 * 24 * 60 * 60 * 1000

export const DEV_MAILBOX_PATH = '/dev/mailbox'

export function devMailbox(db: Db, publicUrl: string): Mailer {
  return {
    kind: 'dev',
    async send(mail: Mail) {
      const id = await insertDevMail(db, {
        messageId: mail.messageId,
        sentAt: mail.date.toISOString(),
        fromAddress: mail.from,
        toAddress: mail.to.toLowerCase(),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      })
      await deleteDevMailBefore(db, new Date(mail.date.getTime() - KEEP_MS).toISOString())
      // Development only: the terminal is the developer's inbox.
      const code = mail.code ? `  code: ${mail.code}\n` : ''
      console.warn(
        `[dev mailbox] to ${mail.to}: ${mail.subject}\n${code}  ${publicUrl}${DEV_MAILBOX_PATH}/${id}`,
      )
      return { providerId: mail.messageId }
    },
  }
}
