import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { optionalAccess } from '../../../auth-verifiers.ts'

/**
 * The repo's head commit and rev, from the account's object (the authority: a relay checking
 * an event it just received must not see an older head).
 */
export const getLatestCommit = defineMethod('com.atproto.sync.getLatestCommit', {
  auth: optionalAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, auth, env, db }) {
    const account = await resolveRepoForRead(db, params.did, auth?.did)
    const head = await accountStub(env, account.did).getHead()
    if (!head) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { body: { cid: head.cid, rev: head.rev } }
  },
})
