import { checkNewPassword } from '../../../../accounts/account-input.ts'
import { ACCOUNT_TOKEN_TTL_MS, AccountTokenError } from '../../../../accounts/tokens.ts'
import { hashPassword, normalizeEmailToken } from '../../../../auth/index.ts'
import { findAccountTokenByValue, takeAccountToken } from '../../../../db/account-tokens.ts'
import { resetAccountPassword } from '../../../../db/accounts.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'

/**
 * Sets a new password with the code requestPasswordReset mailed, and ends every session of the
 * account, app-password sessions included (their refresh tokens are deleted). The code names
 * the account, so guesses are limited per client address.
 */
export const resetPassword = defineMethod('com.atproto.server.resetPassword', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [{ limit: LIMITS.tokenChecksPerIp, key: 'ip' }],
  async handler({ input, config, db }) {
    const password = checkNewPassword(input.password)
    const token = normalizeEmailToken(input.token)
    const row = await findAccountTokenByValue(db, 'reset_password', token)
    if (!row) throw new AccountTokenError('Token is invalid', 'InvalidToken')
    if (Date.now() > Date.parse(row.requestedAt) + ACCOUNT_TOKEN_TTL_MS) {
      throw new AccountTokenError('Token is expired', 'ExpiredToken')
    }
    const hash = await hashPassword(password, config.passwordHash)
    if (!(await takeAccountToken(db, row.did, 'reset_password', row.token))) {
      throw new AccountTokenError('Token is invalid', 'InvalidToken')
    }
    await resetAccountPassword(db, row.did, hash)
    return undefined
  },
})
