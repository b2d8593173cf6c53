import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { serveBlob } from '../../../../blobs/serve.ts'
import { getBlobRow } from '../../../../db/blobs.ts'
import { readOrAskPrimary } from '../../../../db/session.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { optionalAccess } from '../../../auth-verifiers.ts'

/**
 * The bytes of a blob a record references, streamed from R2 (byte ranges for video). Not for
 * temporary uploads or blobs taken down, nor while the account is deactivated (except to the
 * account itself), taken down or deleted.
 */
export const getBlob = defineMethod('com.atproto.sync.getBlob', {
  auth: optionalAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, auth, env, request, db }) {
    // A blob turns permanent when a record referencing it is indexed: a replica that has not
    // seen that record yet still has it temporary, so that counts as a miss too. One round
    // trip: the blob's row is read beside the account's, and used only if it may be.
    const row = await readOrAskPrimary(
      db,
      async (db) => {
        const [, row] = await Promise.all([
          resolveRepoForRead(db, params.did, auth?.did),
          getBlobRow(db, params.did, params.cid),
        ])
        return row
      },
      (row) => row !== null && !row.temp,
    )
    // A blob taken down is withheld as if absent; its bytes stay for a reversal.
    if (!row || row.temp || row.takedownRef) {
      throw new InvalidRequestError(`Blob not found: ${params.cid}`, 'BlobNotFound')
    }
    return serveBlob(env.STORAGE, row, request)
  },
})
