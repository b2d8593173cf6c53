import { inviteCodeView } from '../../../../accounts/admin-view.ts'
import { listInviteCodes } from '../../../../db/invites.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.getInviteCodes'

/** Every invite code, newest first or most used first, with its uses. */
export const getInviteCodes = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, db }) {
    const page = await listInviteCodes(db, {
      sort: params.sort === 'usage' ? 'usage' : 'recent',
      limit: params.limit,
      cursor: params.cursor,
    })
    return {
      body: {
        codes: page.codes.map(inviteCodeView),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      },
    }
  },
})
