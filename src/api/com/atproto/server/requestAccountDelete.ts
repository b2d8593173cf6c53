import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { getDb } from '../../../../db/index.ts'
import { consumeRateLimit, LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessFull } from '../../../auth-verifiers.ts'

/**
 * Issues the token deleteAccount asks for (valid 15 minutes; a new request replaces it).
 *
 * @NOTE There is no email sender yet: the token goes to the Worker's log, and the operator
 * can read it with `dev.edgepds.admin.getAccountTokens` (admin auth) to pass it on.
 */
export const requestAccountDelete = defineMethod<unknown, unknown, AccessAuth>({
  nsid: 'com.atproto.server.requestAccountDelete',
  auth: accessFull,
  async handler({ auth, env, config }) {
    const db = getDb(env.DB)
    const account = await requireCallerAccount(db, auth.did)
    await consumeRateLimit(db, config, LIMITS.requestAccountDeletePerDid, auth.did)
    const issued = await issueAccountToken(db, auth.did, 'delete_account')
    console.log(
      `account deletion requested by ${account.did} (${account.handle}, ${account.email ?? 'no email'}): ` +
        `token ${issued.token}, valid until ${issued.expiresAt}`,
    )
    return undefined
  },
})
