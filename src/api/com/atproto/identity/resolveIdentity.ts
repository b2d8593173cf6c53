import { resolveIdentity as lookUpIdentity } from '../../../../services/identity-info.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** A handle or DID → its DID, bidirectionally verified handle (or `handle.invalid`) and document. */
export const resolveIdentity = defineMethod('com.atproto.identity.resolveIdentity', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, config, db }) {
    return { body: await lookUpIdentity(db, config, params.identifier) }
  },
})
