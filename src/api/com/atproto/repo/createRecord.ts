import { resolveRepoForWrite } from '../../../../accounts/repo-target.ts'
import { getDb } from '../../../../db/index.ts'
import type { XrpcMethodTypes } from '../../../../lexicon/generated/method-types.ts'
import { writeOneRecord } from '../../../../writes/prepare.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessStandard } from '../../../auth-verifiers.ts'

type Types = XrpcMethodTypes['com.atproto.repo.createRecord']

/** One new record in one commit; a TID record key unless the caller names one. */
export const createRecord = defineMethod<Types['params'], Types['input'], AccessAuth>({
  nsid: 'com.atproto.repo.createRecord',
  auth: accessStandard,
  async handler({ input, auth, env }) {
    const did = await resolveRepoForWrite(getDb(env.DB), auth.did, input.repo)
    return writeOneRecord(
      env,
      did,
      { action: 'create', collection: input.collection, rkey: input.rkey, record: input.record },
      { validate: input.validate, swapCommit: input.swapCommit },
    )
  },
})
