import { checkEmailAddress as checkEmail } from '../../../../accounts/account-input.ts'
import { requireAccount } from '../../../../accounts/moderation.ts'
import { getAccountByHandle, updateAccountEmail as setEmail } from '../../../../db/accounts.ts'
import { isUniqueConstraintError } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/**
 * Sets an account's email (named by DID or handle); the new address is unconfirmed. Admin
 * password only.
 */
export const updateAccountEmail = defineMethod('com.atproto.admin.updateAccountEmail', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env, db }) {
    const email = checkEmail(input.email)
    const did = input.account.startsWith('did:')
      ? input.account
      : ((await getAccountByHandle(db, input.account))?.did ?? input.account)
    const account = await requireAccount(env, did)
    try {
      await setEmail(db, account.did, email)
    } catch (err) {
      if (isUniqueConstraintError(err)) {
        throw new InvalidRequestError('This email address is already in use', 'EmailNotAvailable')
      }
      throw err
    }
    return undefined
  },
})
