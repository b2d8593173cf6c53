import { resolveDidDocument } from '../../../../services/identity-info.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** DID → DID document, through the cached did:plc / did:web resolver. No auth, as the lexicon. */
export const resolveDid = defineMethod('com.atproto.identity.resolveDid', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, config }) {
    return { body: { didDoc: await resolveDidDocument(config, params.did) } }
  },
})
