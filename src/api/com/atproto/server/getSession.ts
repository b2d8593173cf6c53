import { getAccountByDid } from '../../../../db/accounts.ts'
import { sessionView } from '../../../../sessions/view.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission, noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'
import { scopeAllows } from '../../../authorize.ts'

/** Who the session belongs to. */
export const getSession = defineMethod('com.atproto.server.getSession', {
  auth: accessStandard,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ auth, db }) {
    const account = await getAccountByDid(db, auth.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    // OAuth: with account:email or transition:email; legacy: not to app passwords.
    const showEmail =
      scopeAllows(auth, accountPermission('email', 'read')) ??
      (auth.kind === 'access' && auth.appPassword === null)
    return { body: sessionView(account, { showEmail }) }
  },
})
