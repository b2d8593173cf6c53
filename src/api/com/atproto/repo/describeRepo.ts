import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { listCollections } from '../../../../db/record-reads.ts'
import { getHandle } from '../../../../identity/index.ts'
import { identityServices } from '../../../../identity/services.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** Who a repo belongs to, its DID document, and which collections it holds. */
export const describeRepo = defineMethod('com.atproto.repo.describeRepo', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, config, db }) {
    // Named by DID, the collections are read beside the account (one round trip), and
    // answered only if the repo may be served.
    const [account, collectionsOfDid] = await Promise.all([
      resolveRepoForRead(db, params.repo),
      params.repo.startsWith('did:') ? listCollections(db, params.repo) : null,
    ])
    const [didDoc, collections] = await Promise.all([
      identityServices(config)
        .didResolver.resolve(account.did)
        .catch(() => null),
      collectionsOfDid ?? listCollections(db, account.did),
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
