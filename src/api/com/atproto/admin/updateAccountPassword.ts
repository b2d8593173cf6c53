import { checkNewPassword as checkPassword } from '../../../../accounts/account-input.ts'
import { requireAccount } from '../../../../accounts/moderation.ts'
import { hashPassword } from '../../../../auth/index.ts'
import { updateAccountPassword as setPasswordHash } from '../../../../db/accounts.ts'
import { deleteRefreshTokensOf } from '../../../../db/moderation.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/**
 * Resets an account's password; its sessions end (someone who knew the old password may hold
 * one). Admin password only.
 */
export const updateAccountPassword = defineMethod('com.atproto.admin.updateAccountPassword', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env, config, db }) {
    const account = await requireAccount(env, input.did)
    const hash = await hashPassword(checkPassword(input.password), config.passwordHash)
    await setPasswordHash(db, account.did, hash)
    await deleteRefreshTokensOf(db, account.did)
    return undefined
  },
})
