import { listCollections } from '../../../../db/record-reads.ts'
import { getHandle } from '../../../../identity/index.ts'
import { identityServices } from '../../../../services/identity.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** Who a repo belongs to, its DID document, and which collections it holds. */
export const describeRepo = defineMethod('com.atproto.repo.describeRepo', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, config, db }) {
    const account = await resolveRepoForRead(db, params.repo)
    const [didDoc, collections] = await Promise.all([
      identityServices(config)
        .didResolver.resolve(account.did)
        .catch(() => null),
      listCollections(db, account.did),
    ])
    const handleIsCorrect = didDoc !== null && getHandle(didDoc) === account.handle
    return {
      body: {
        handle: account.handle,
        did: account.did,
        didDoc: didDoc ?? {},
        collections,
        handleIsCorrect,
      },
    }
  },
})
