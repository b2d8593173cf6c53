import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { optionalAccess } from '../../../auth-verifiers.ts'

/**
 * The repo as a CAR, streamed from the account's object as the client reads it (memory does
 * not grow with the repo). With `since`, only the blocks that are new after that rev.
 */
export const getRepo = defineMethod('com.atproto.sync.getRepo', {
  auth: optionalAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, auth, env, db }) {
    const account = await resolveRepoForRead(db, params.did, auth?.did)
    const body = await accountStub(env, account.did).exportRepo({ since: params.since ?? null })
    if (!body) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body }
  },
})
