import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Issues the token deleteAccount asks for (valid 15 minutes; a new request replaces it).
 *
 * @NOTE There is no email sender yet: the operator reads the token with
 * `dev.edgepds.admin.getAccountTokens` (admin auth) to pass it on; it never goes to the log.
 */
export const requestAccountDelete = defineMethod('com.atproto.server.requestAccountDelete', {
  auth: accessFull,
  permission: passwordSessionOnly,
  rateLimits: [{ limit: LIMITS.requestAccountDeletePerDid, key: 'account' }],
  async handler({ auth, db }) {
    const account = await requireCallerAccount(db, auth.did)
    const issued = await issueAccountToken(db, auth.did, 'delete_account')
    // The token is a credential: the log only says there is one to pass on.
    console.log(
      `account deletion requested by ${account.did}: token in dev.edgepds.admin.getAccountTokens until ${issued.expiresAt}`,
    )
    return undefined
  },
})
