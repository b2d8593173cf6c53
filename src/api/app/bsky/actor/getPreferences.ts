import { readPreferences } from '../../../../accounts/preferences.ts'
import { SCOPE_ACCESS } from '../../../../auth/index.ts'
import { forwardAsAccount } from '../../../../proxy/proxy-call.ts'
import { otherServiceRequested } from '../../../../proxy/target.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'
import { rpcToTargetService } from '../../../proxy-fallback.ts'

/**
 * The account's private preferences, stored here. Only a request whose `atproto-proxy` names
 * another service than our AppView goes there instead (as the reference PDS does).
 */
export const getPreferences = defineMethod('app.bsky.actor.getPreferences', {
  auth: accessStandard,
  permission: rpcToTargetService,
  rateLimits: noRateLimits,
  async handler({ nsid, auth, request, env, config, db }) {
    if (otherServiceRequested(request, config.appView)) {
      return forwardAsAccount({ nsid, request, did: auth.did }, { env, config })
    }
    const preferences = await readPreferences(db, auth.did, {
      fullAccess: auth.kind === 'access' && auth.scope === SCOPE_ACCESS,
    })
    return { body: { preferences } }
  },
})
