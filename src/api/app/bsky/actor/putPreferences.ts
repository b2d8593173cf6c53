import { writePreferences } from '../../../../accounts/preferences.ts'
import { SCOPE_ACCESS } from '../../../../auth/index.ts'
import { ipldToJson } from '../../../../data/json.ts'
import { getAccountByDid } from '../../../../db/accounts.ts'
import { forwardAsAccount } from '../../../../proxy/proxy-call.ts'
import { otherServiceRequested } from '../../../../proxy/target.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'
import { rpcToTargetService } from '../../../proxy-fallback.ts'

/**
 * Replaces the account's `app.bsky` preferences. A deactivated account may still set them
 * (a migration imports them before activating); a taken-down or suspended one may not.
 */
export const putPreferences = defineMethod('app.bsky.actor.putPreferences', {
  auth: accessStandard,
  permission: rpcToTargetService,
  rateLimits: noRateLimits,
  async handler({ nsid, input, auth, request, env, config, db }) {
    if (otherServiceRequested(request, config.appView)) {
      // The dispatcher has read the body: send the validated input on.
      const bytes = new TextEncoder().encode(JSON.stringify(ipldToJson(input)))
      return forwardAsAccount(
        { nsid, request, did: auth.did, body: { bytes, contentType: 'application/json' } },
        { env, config },
      )
    }
    const account = await getAccountByDid(db, auth.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    if (account.status === 'takendown') {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    if (account.status === 'suspended') {
      throw new AuthRequiredError('Account is suspended', 'AccountSuspended')
    }
    await writePreferences(db, auth.did, input.preferences, {
      fullAccess: auth.kind === 'access' && auth.scope === SCOPE_ACCESS,
    })
    return undefined
  },
})
