import { getAccountByDid } from '../../../../db/accounts.ts'
import { getIndexedHead } from '../../../../sync/repo-listing.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** Whether the repo is hosted and active here; `rev` only while it is active (as the reference). */
export const getRepoStatus = defineMethod('com.atproto.sync.getRepoStatus', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, db }) {
    const account = await getAccountByDid(db, params.did)
    if (!account)
      throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    const active = account.status === 'active'
    if (!active) return { body: { did: account.did, active, status: account.status } }
    const head = await getIndexedHead(db, account.did)
    return {
      body: head ? { did: account.did, active, rev: head.rev } : { did: account.did, active },
    }
  },
})
