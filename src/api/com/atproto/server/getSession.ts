import { getAccountByDid } from '../../../../db/accounts.ts'
import { oauthMaySeeEmail } from '../../../../oauth/resource.ts'
import { sessionView } from '../../../../sessions/view.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/** Who the session belongs to. */
export const getSession = defineMethod('com.atproto.server.getSession', {
  auth: accessStandard,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ auth, db }) {
    const account = await getAccountByDid(db, auth.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    return {
      body: sessionView(account, {
        showEmail: auth.kind === 'oauth' ? oauthMaySeeEmail(auth) : auth.appPassword === null,
      }),
    }
  },
})
