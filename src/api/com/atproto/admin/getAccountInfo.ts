import { accountView } from '../../../../accounts/admin-view.ts'
import { requireAccount } from '../../../../accounts/moderation.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.getAccountInfo'

/** One account as the operator sees it: email, invites, status dates. */
export const getAccountInfo = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, env, db }) {
    return { body: await accountView(db, await requireAccount(env, params.did)) }
  },
})
