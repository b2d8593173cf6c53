import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { getDb } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

interface Params {
  did: string
  collection: string
  rkey: string
}

/**
 * A record with the proof of it: the head commit, the MST nodes on its path and the record. A
 * missing record answers the same way without the record (a proof of absence), as the
 * reference PDS does.
 */
export const getRecord = defineMethod<Params>({
  nsid: 'com.atproto.sync.getRecord',
  async handler({ params, env }) {
    const account = await resolveRepoForRead(getDb(env.DB), params.did)
    const car = await accountStub(env, account.did).getRecordProof({
      collection: params.collection,
      rkey: params.rkey,
    })
    if (!car) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body: car }
  },
})
