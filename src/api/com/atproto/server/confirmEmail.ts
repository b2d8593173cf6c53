import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { useAccountToken } from '../../../../accounts/tokens.ts'
import { setEmailConfirmed } from '../../../../db/accounts.ts'
import { TOKEN_CHECK_LIMITS } from '../../../../rate-limit.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/** Confirms the account's address with the code requestEmailConfirmation mailed to it. */
export const confirmEmail = defineMethod('com.atproto.server.confirmEmail', {
  auth: accessStandard,
  permission: [accountPermission('email', 'manage')],
  rateLimits: TOKEN_CHECK_LIMITS,
  async handler({ input, auth, db }) {
    const account = await requireCallerAccount(db, auth.did)
    // The code proves the address it was mailed to, which must be the one named.
    if (!account.email || account.email !== input.email.trim().toLowerCase()) {
      throw new InvalidRequestError('Invalid email', 'InvalidEmail')
    }
    await useAccountToken(db, account.did, 'confirm_email', input.token)
    await setEmailConfirmed(db, account.did, new Date().toISOString())
    return undefined
  },
})
