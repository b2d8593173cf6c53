import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { LIMITS, MAIL_LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/** Mails the code deleteAccount asks for (valid 15 minutes; a new request replaces it). */
export const requestAccountDelete = defineMethod('com.atproto.server.requestAccountDelete', {
  auth: accessFull,
  permission: passwordSessionOnly,
  rateLimits: [{ limit: LIMITS.requestAccountDeletePerDid, key: 'account' }, ...MAIL_LIMITS],
  async handler(call) {
    const account = await requireCallerAccount(call.db, call.auth.did)
    await issueAccountToken(call, account, 'delete_account')
    return undefined
  },
})
