import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * A record with the proof of it: the head commit, the MST nodes on its path and the record. A
 * missing record answers the same way without the record (a proof of absence), as the
 * reference PDS does.
 */
export const getRecord = defineMethod('com.atproto.sync.getRecord', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const car = await accountStub(env, account.did).getRecordProof({
      collection: params.collection,
      rkey: params.rkey,
    })
    if (!car) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body: car }
  },
})
