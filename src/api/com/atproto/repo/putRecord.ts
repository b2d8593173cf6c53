import { repoWriteLimits, WRITE_POINTS } from '../../../../rate-limit.ts'
import { resolveRepoForWrite } from '../../../../services/repo-target.ts'
import { writeOneRecord } from '../../../../services/repo-writes.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { repoPermission } from '../../../../xrpc/permission.ts'
import { type AccessAuth, accessStandard } from '../../../auth-verifiers.ts'

interface Input {
  repo: string
  collection: string
  rkey: string
  validate?: boolean
  record: unknown
  swapRecord?: string | null
  swapCommit?: string
}

/** Creates or replaces the record at a key; `swapRecord` null means "must not exist yet". */
export const putRecord = defineMethod<unknown, Input, AccessAuth>({
  nsid: 'com.atproto.repo.putRecord',
  auth: accessStandard,
  permission: ({ input }) => [
    repoPermission(input.collection, 'create'),
    repoPermission(input.collection, 'update'),
  ],
  rateLimits: repoWriteLimits(WRITE_POINTS.update),
  async handler({ input, auth, env, db }) {
    const did = await resolveRepoForWrite(db, auth.did, input.repo)
    return writeOneRecord(
      env,
      did,
      {
        action: 'put',
        collection: input.collection,
        rkey: input.rkey,
        record: input.record,
        swapRecord: input.swapRecord,
      },
      { validate: input.validate, swapCommit: input.swapCommit },
    )
  },
})
