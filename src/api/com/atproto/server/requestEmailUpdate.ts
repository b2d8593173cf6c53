import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { MAIL_LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Whether updateEmail needs a code: it does once the current address is confirmed, and the code
 * is mailed to that address (whoever holds the session must also hold the mailbox).
 */
export const requestEmailUpdate = defineMethod('com.atproto.server.requestEmailUpdate', {
  auth: accessStandard,
  permission: [accountPermission('email', 'manage')],
  rateLimits: MAIL_LIMITS,
  async handler(call) {
    const account = await requireCallerAccount(call.db, call.auth.did)
    const tokenRequired = account.emailConfirmedAt !== null
    if (tokenRequired) await issueAccountToken(call, account, 'update_email')
    return { body: { tokenRequired } }
  },
})
