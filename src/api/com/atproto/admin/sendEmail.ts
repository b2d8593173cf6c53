import { requireAccount } from '../../../../accounts/moderation.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.sendEmail'

/**
 * A moderator's message to an account's email address. This PDS has no mailer yet, so the
 * answer is `sent: false` once the recipient is checked.
 *
 * @TODO send through the mailer once there is one (issue: email delivery).
 */
export const sendEmail = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env }) {
    const account = await requireAccount(env, input.recipientDid)
    if (!account.email) {
      throw new InvalidRequestError('account does not have an email address')
    }
    return { body: { sent: false } }
  },
})
