import { getDb } from '../../../../db/index.ts'
import { consumeRateLimit, LIMITS } from '../../../../rate-limit.ts'
import { issueAccountToken } from '../../../../services/account-tokens.ts'
import { requireCallerAccount } from '../../../../services/caller-account.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessFull } from '../../../auth-verifiers.ts'

/**
 * Issues the token deleteAccount asks for (valid 15 minutes; a new request replaces it).
 *
 * @NOTE There is no email sender yet: the operator reads the token with
 * `dev.edgepds.admin.getAccountTokens` (admin auth) to pass it on; it never goes to the log.
 */
export const requestAccountDelete = defineMethod<unknown, unknown, AccessAuth>({
  nsid: 'com.atproto.server.requestAccountDelete',
  auth: accessFull,
  async handler({ auth, env, config }) {
    const db = getDb(env.DB)
    const account = await requireCallerAccount(db, auth.did)
    await consumeRateLimit(db, config, LIMITS.requestAccountDeletePerDid, auth.did)
    const issued = await issueAccountToken(db, auth.did, 'delete_account')
    // The token is a credential: the log only says there is one to pass on.
    console.log(
      `account deletion requested by ${account.did}: token in dev.edgepds.admin.getAccountTokens until ${issued.expiresAt}`,
    )
    return undefined
  },
})
