import { ADMIN_INVITE_OWNER, createInviteCodesFor } from '../../../../accounts/invite-codes.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/** Creates `codeCount` codes for each account (`admin` when none is named). Admin only. */
export const createInviteCodes = defineMethod('com.atproto.server.createInviteCodes', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, config, db }) {
    const codes = await createInviteCodesFor(db, config, {
      accounts: input.forAccounts ?? [ADMIN_INVITE_OWNER],
      codeCount: input.codeCount,
      useCount: input.useCount,
    })
    return { body: { codes } }
  },
})
