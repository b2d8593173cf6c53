import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * The repo as a CAR, streamed from the account's object as the client reads it (memory does
 * not grow with the repo). With `since`, only the blocks that are new after that rev.
 */
export const getRepo = defineMethod('com.atproto.sync.getRepo', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const body = await accountStub(env, account.did).exportRepo({ since: params.since ?? null })
    if (!body) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body }
  },
})
