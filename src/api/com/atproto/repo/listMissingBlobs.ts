import { listMissingBlobs as listMissing } from '../../../../db/blobs.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Blobs the caller's records reference that this PDS does not hold (after an account
 * migration imported the repo), in CID order, one referencing record each.
 */
export const listMissingBlobs = defineMethod('com.atproto.repo.listMissingBlobs', {
  auth: accessStandard,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, auth, db }) {
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) => listMissing(db, { did: auth.did, cursor: params.cursor, limit }),
      (row) => row.cid,
    )
    const blobs = rows.map((row) => ({
      cid: row.cid,
      recordUri: AtUri.make(auth.did, row.collection, row.rkey).toString(),
    }))
    return { body: pageBody('blobs', blobs, cursor) }
  },
})
