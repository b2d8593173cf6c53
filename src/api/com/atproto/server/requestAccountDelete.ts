import { LIMITS } from '../../../../rate-limit.ts'
import { issueAccountToken } from '../../../../services/account-tokens.ts'
import { requireCallerAccount } from '../../../../services/caller-account.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Issues the token deleteAccount asks for (valid 15 minutes; a new request replaces it).
 *
 * @NOTE There is no email sender yet: the token goes to the Worker's log, and the operator
 * can read it with `dev.edgepds.admin.getAccountTokens` (admin auth) to pass it on.
 */
export const requestAccountDelete = defineMethod('com.atproto.server.requestAccountDelete', {
  auth: accessFull,
  permission: passwordSessionOnly,
  rateLimits: [{ limit: LIMITS.requestAccountDeletePerDid, key: 'account' }],
  async handler({ auth, db }) {
    const account = await requireCallerAccount(db, auth.did)
    const issued = await issueAccountToken(db, auth.did, 'delete_account')
    console.log(
      `account deletion requested by ${account.did} (${account.handle}, ${account.email ?? 'no email'}): ` +
        `token ${issued.token}, valid until ${issued.expiresAt}`,
    )
    return undefined
  },
})
