import { readPreferences } from '../../../../accounts/preferences.ts'
import { SCOPE_ACCESS } from '../../../../auth/index.ts'
import { getDb } from '../../../../db/index.ts'
import { forwardAsAccount } from '../../../../proxy/proxy-call.ts'
import { otherServiceRequested } from '../../../../proxy/target.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessStandard } from '../../../auth-verifiers.ts'

/**
 * The account's private preferences, stored here. Only a request whose `atproto-proxy` names
 * another service than our AppView goes there instead (as the reference PDS does).
 */
export const getPreferences = defineMethod<Record<string, never>, undefined, AccessAuth>({
  nsid: 'app.bsky.actor.getPreferences',
  auth: accessStandard,
  async handler({ nsid, auth, request, env, config }) {
    if (otherServiceRequested(request, config.appView)) {
      return forwardAsAccount({ nsid, request, did: auth.did }, { env, config })
    }
    const preferences = await readPreferences(getDb(env.DB), auth.did, {
      fullAccess: auth.scope === SCOPE_ACCESS,
    })
    return { body: { preferences } }
  },
})
