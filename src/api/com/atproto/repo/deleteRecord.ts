import { resolveRepoForWrite } from '../../../../accounts/repo-target.ts'
import { repoWriteLimits, WRITE_POINTS } from '../../../../rate-limit.ts'
import { commitWrites, prepareWrites, writeHeaders } from '../../../../writes/prepare.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { repoPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Deletes a record. Deleting one that is not there succeeds without a commit, as on the
 * reference PDS (unless `swapRecord` insists on a version).
 */
export const deleteRecord = defineMethod('com.atproto.repo.deleteRecord', {
  auth: accessStandard,
  permission: ({ input }) => [repoPermission(input.collection, 'delete')],
  rateLimits: repoWriteLimits(WRITE_POINTS.delete),
  async handler({ input, auth, env, db, accountObjectLimits }) {
    const did = await resolveRepoForWrite(db, auth.did, input.repo)
    const { writes } = await prepareWrites(
      [
        {
          action: 'delete',
          collection: input.collection,
          rkey: input.rkey,
          swapRecord: input.swapRecord,
        },
      ],
      false,
    )
    try {
      const result = await commitWrites(env, did, writes, input.swapCommit, accountObjectLimits)
      return { body: { commit: result.commit }, headers: writeHeaders(result) }
    } catch (err) {
      const missing =
        err instanceof InvalidRequestError && err.error === 'RecordNotFound' && !input.swapRecord
      if (missing) return { body: {} }
      throw err
    }
  },
})
