import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { recommendedDidCredentials } from '../../../../accounts/plc-identity.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * What the account's DID document must hold to be hosted here: our PLC rotation key, its
 * handle, its signing key here (for an account created with an existing DID, the key it got
 * here, not the old host's) and our endpoint. Works while the account is deactivated, as a
 * migration needs.
 */
export const getRecommendedDidCredentials = defineMethod(
  'com.atproto.identity.getRecommendedDidCredentials',
  {
    auth: accessFull,
    permission: [identityPermission('*')],
    rateLimits: noRateLimits,
    async handler({ auth, config, db }) {
      const account = await requireCallerAccount(db, auth.did)
      return { body: await recommendedDidCredentials(config, account) }
    },
  },
)
