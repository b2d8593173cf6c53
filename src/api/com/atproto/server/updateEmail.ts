import { checkEmailAddress } from '../../../../accounts/account-input.ts'
import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { useAccountToken } from '../../../../accounts/tokens.ts'
import { getAccountByEmail, setAccountEmail, setEmailAuthFactor } from '../../../../db/accounts.ts'
import { isUniqueConstraintError } from '../../../../db/index.ts'
import { TOKEN_CHECK_LIMITS } from '../../../../rate-limit.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Changes the address (a code from requestEmailUpdate when the current one is confirmed; the new
 * one starts unconfirmed) and switches sign-in codes (`emailAuthFactor`), which need a confirmed
 * address.
 */
export const updateEmail = defineMethod('com.atproto.server.updateEmail', {
  auth: accessStandard,
  permission: [accountPermission('email', 'manage')],
  rateLimits: TOKEN_CHECK_LIMITS,
  async handler({ input, auth, db }) {
    const account = await requireCallerAccount(db, auth.did)
    const email = checkEmailAddress(input.email)
    const changed = email !== account.email
    // Every refusal comes before the code is used up.
    if (input.emailAuthFactor && (changed || account.emailConfirmedAt === null)) {
      throw new InvalidRequestError('Confirm your email address before turning on sign-in codes')
    }
    if (changed) {
      const holder = await getAccountByEmail(db, email)
      if (holder && holder.did !== account.did) throw emailInUse()
    }
    if (account.emailConfirmedAt !== null) {
      if (!input.token) {
        throw new InvalidRequestError(
          'Confirmation token required: ask for one with requestEmailUpdate',
          'TokenRequired',
        )
      }
      await useAccountToken(db, account.did, 'update_email', input.token)
    }
    if (changed) {
      try {
        await setAccountEmail(db, account.did, email)
      } catch (err) {
        if (isUniqueConstraintError(err)) throw emailInUse()
        throw err
      }
    }
    if (input.emailAuthFactor !== undefined) {
      await setEmailAuthFactor(db, account.did, input.emailAuthFactor)
    }
    return undefined
  },
})

function emailInUse(): InvalidRequestError {
  return new InvalidRequestError('This email address is already in use')
}
