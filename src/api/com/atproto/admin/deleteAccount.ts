import { deleteAccountEverywhere } from '../../../../accounts/delete-account.ts'
import { requireAccount } from '../../../../accounts/moderation.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/** Deletes an account for good, as the owner's deleteAccount does. Admin password only. */
export const deleteAccount = defineMethod('com.atproto.admin.deleteAccount', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env }) {
    await deleteAccountEverywhere(env, (await requireAccount(env, input.did)).did)
    return undefined
  },
})
