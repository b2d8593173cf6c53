/** disableAccountInvites and enableAccountInvites: one switch on the account, off or on. */
import { requireAccount } from '../accounts/moderation.ts'
import { setInvitesDisabled } from '../db/moderation.ts'
import { defineMethod } from '../xrpc/method.ts'
import { noPermission } from '../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from './auth-verifiers.ts'

export function accountInvitesSwitch(
  nsid: 'com.atproto.admin.disableAccountInvites' | 'com.atproto.admin.enableAccountInvites',
  disabled: boolean,
) {
  return defineMethod(nsid, {
    auth: moderatorAuth(nsid),
    permission: noPermission,
    rateLimits: adminRateLimits,
    async handler({ input, env, db }) {
      const account = await requireAccount(env, input.account)
      await setInvitesDisabled(db, account.did, disabled)
      return undefined
    },
  })
}
