import { requireAccount } from '../../../../accounts/moderation.ts'
import { randomToken } from '../../../../auth/random-token.ts'
import { escapeHtml } from '../../../../mail/compose.ts'
import { mailerFor } from '../../../../mail/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.sendEmail'

/**
 * A moderator's message to an account's email address, through the configured mailer
 * (PDS_MAILER). `sent: false` when this PDS has no mailer; a provider's refusal is
 * EmailNotSent (502).
 */
export const sendEmail = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env, config, db }) {
    const account = await requireAccount(env, input.recipientDid)
    if (!account.email) {
      throw new InvalidRequestError('account does not have an email address')
    }
    const mailer = mailerFor(env, config, db)
    if (!mailer || !config.mail) return { body: { sent: false } }
    const subject = input.subject ?? `Message from the moderators of ${config.hostname}`
    await mailer.send({
      from: config.mail.from,
      to: account.email,
      subject,
      text: `${input.content}\n`,
      html: `<!doctype html><html><body><p>${escapeHtml(input.content).replace(/\n/g, '<br>')}</p></body></html>`,
      date: new Date(),
      messageId: `<${randomToken(16)}@${config.hostname}>`,
    })
    return { body: { sent: true } }
  },
})
