import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** Deprecated (getLatestCommit): the head commit CID. */
export const getHead = defineMethod('com.atproto.sync.getHead', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const head = await accountStub(env, account.did).getHead()
    if (!head) {
      throw new InvalidRequestError(`Could not find root for DID: ${params.did}`, 'HeadNotFound')
    }
    return { body: { root: head.cid } }
  },
})
