import { ADMIN_INVITE_OWNER, createInviteCodesFor } from '../../../../accounts/invite-codes.ts'
import { getDb } from '../../../../db/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AdminAuth, adminAuth } from '../../../auth-verifiers.ts'

interface Input {
  codeCount: number
  useCount: number
  forAccounts?: string[]
}

/** Creates `codeCount` codes for each account (`admin` when none is named). Admin only. */
export const createInviteCodes = defineMethod<unknown, Input, AdminAuth>({
  nsid: 'com.atproto.server.createInviteCodes',
  auth: adminAuth,
  async handler({ input, env, config }) {
    const codes = await createInviteCodesFor(getDb(env.DB), config, {
      accounts: input.forAccounts ?? [ADMIN_INVITE_OWNER],
      codeCount: input.codeCount,
      useCount: input.useCount,
    })
    return { body: { codes } }
  },
})
