import { accountView } from '../../../../accounts/admin-view.ts'
import { getAccountsByDids } from '../../../../db/accounts.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.getAccountInfos'
/** A bound of ours (the Lexicon sets none); D1 binds at most 100 parameters. */
const MAX_DIDS = 100

/** Several accounts at once; DIDs this PDS does not hold are left out. */
export const getAccountInfos = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, db }) {
    const dids = [...new Set(params.dids)]
    if (dids.length > MAX_DIDS) {
      throw new InvalidRequestError(`At most ${MAX_DIDS} DIDs per request`)
    }
    const rows = (await getAccountsByDids(db, dids)).filter((row) => row.status !== 'deleted')
    return { body: { infos: await Promise.all(rows.map((row) => accountView(db, row))) } }
  },
})
