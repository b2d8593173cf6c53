import { ADMIN_INVITE_OWNER, createInviteCodesFor } from '../../../../accounts/invite-codes.ts'
import { getDb } from '../../../../db/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AdminAuth, adminAuth } from '../../../auth-verifiers.ts'

interface Input {
  useCount: number
  forAccount?: string
}

/** Creates one code with `useCount` uses, for `forAccount` (`admin` by default). Admin only. */
export const createInviteCode = defineMethod<unknown, Input, AdminAuth>({
  nsid: 'com.atproto.server.createInviteCode',
  auth: adminAuth,
  async handler({ input, env, config }) {
    const [created] = await createInviteCodesFor(getDb(env.DB), config, {
      accounts: [input.forAccount ?? ADMIN_INVITE_OWNER],
      codeCount: 1,
      useCount: input.useCount,
    })
    return { body: { code: created!.codes[0]! } }
  },
})
