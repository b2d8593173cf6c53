import { getDb } from '../../../../db/index.ts'
import { resolveRepoForWrite } from '../../../../services/repo-target.ts'
import { commitWrites, prepareWrites } from '../../../../services/repo-writes.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessStandard } from '../../../auth-verifiers.ts'

interface Input {
  repo: string
  collection: string
  rkey?: string
  validate?: boolean
  record: unknown
  swapCommit?: string
}

/** One new record in one commit; a TID record key unless the caller names one. */
export const createRecord = defineMethod<unknown, Input, AccessAuth>({
  nsid: 'com.atproto.repo.createRecord',
  auth: accessStandard,
  async handler({ input, auth, env }) {
    const did = await resolveRepoForWrite(getDb(env.DB), auth.did, input.repo)
    const { writes, validation } = await prepareWrites(
      [{ action: 'create', collection: input.collection, rkey: input.rkey, record: input.record }],
      input.validate,
    )
    const result = await commitWrites(env, did, writes, input.swapCommit)
    const write = writes[0]!
    return {
      body: {
        uri: AtUri.make(did, write.collection, write.rkey).toString(),
        cid: write.cid,
        commit: result.commit,
        validationStatus: validation[0],
      },
      headers: { 'Atproto-Repo-Rev': result.commit.rev },
    }
  },
})
