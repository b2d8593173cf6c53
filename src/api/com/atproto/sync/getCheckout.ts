import { accountStub } from '../../../../services/account-do.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** Deprecated (getRepo): the whole repo at its head, as a CAR stream. */
export const getCheckout = defineMethod('com.atproto.sync.getCheckout', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, db }) {
    const account = await resolveRepoForRead(db, params.did)
    const body = await accountStub(env, account.did).exportRepo({})
    if (!body) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body }
  },
})
