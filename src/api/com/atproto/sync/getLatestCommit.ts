import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * The repo's head commit and rev, from the account's object (the authority: a relay checking
 * an event it just received must not see an older head).
 */
export const getLatestCommit = defineMethod('com.atproto.sync.getLatestCommit', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const head = await accountStub(env, account.did).getHead()
    if (!head) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { body: { cid: head.cid, rev: head.rev } }
  },
})
