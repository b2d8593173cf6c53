import { resolveRepoForWrite } from '../../../../accounts/repo-target.ts'
import { getDb } from '../../../../db/index.ts'
import { writeOneRecord } from '../../../../writes/prepare.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
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
  async handler({ input, auth, env }) {
    const did = await resolveRepoForWrite(getDb(env.DB), auth.did, input.repo)
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
