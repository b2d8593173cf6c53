import { ADMIN_INVITE_OWNER, createInviteCodesFor } from '../../../../accounts/invite-codes.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/** Creates one code with `useCount` uses, for `forAccount` (`admin` by default). Admin only. */
export const createInviteCode = defineMethod('com.atproto.server.createInviteCode', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, config, db }) {
    const [created] = await createInviteCodesFor(db, config, {
      accounts: [input.forAccount ?? ADMIN_INVITE_OWNER],
      codeCount: 1,
      useCount: input.useCount,
    })
    return { body: { code: created!.codes[0]! } }
  },
})
