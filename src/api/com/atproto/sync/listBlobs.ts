import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { listBlobCids } from '../../../../db/blobs.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { optionalAccess } from '../../../auth-verifiers.ts'

/**
 * The account's referenced blobs (temporary uploads are not listed), in CID order; with
 * `since`, only those referenced by records written after that rev.
 */
export const listBlobs = defineMethod('com.atproto.sync.listBlobs', {
  auth: optionalAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, auth, db }) {
    const account = await resolveRepoForRead(db, params.did, auth?.did)
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) =>
        listBlobCids(db, { did: account.did, since: params.since, cursor: params.cursor, limit }),
      (cid) => cid,
    )
    return { body: pageBody('cids', rows, cursor) }
  },
})
