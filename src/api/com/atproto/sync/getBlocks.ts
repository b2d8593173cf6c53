import { CID } from '../../../../data/cid.ts'
import { encodeCarBytes } from '../../../../repo/car.ts'
import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { blockKind } from '../../../../sync/repo-car.ts'
import { currentRecordCids } from '../../../../sync/repo-listing.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * Blocks of the repo by CID, as a CAR without a root. Commits and MST nodes are served as
 * stored; a record block only while a record of the repo has that CID, since the account's
 * store keeps deleted and replaced records for a while (the block GC's grace period).
 */
export const getBlocks = defineMethod('com.atproto.sync.getBlocks', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const wanted = [...new Set(params.cids)]
    const { blocks, missing } = await accountStub(env, account.did).getBlocks(wanted)
    const records = blocks.filter((block) => blockKind(block.bytes) === 'record')
    if (records.length > 0) {
      const current = await currentRecordCids(
        db,
        account.did,
        records.map((block) => block.cid),
      )
      for (const block of records) if (!current.has(block.cid)) missing.push(block.cid)
    }
    if (missing.length > 0) {
      throw new InvalidRequestError(`Could not find blocks: ${missing.join(', ')}`, 'BlockNotFound')
    }
    const car = await encodeCarBytes(
      null,
      blocks.map((block) => ({ cid: CID.parse(block.cid), bytes: block.bytes })),
    )
    return { encoding: 'application/vnd.ipld.car', body: car }
  },
})
