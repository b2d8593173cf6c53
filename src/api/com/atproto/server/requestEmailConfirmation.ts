import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { MAIL_LIMITS } from '../../../../rate-limit.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/** Mails a code to the account's address; confirmEmail takes it back. */
export const requestEmailConfirmation = defineMethod(
  'com.atproto.server.requestEmailConfirmation',
  {
    auth: accessStandard,
    permission: [accountPermission('email', 'manage')],
    rateLimits: MAIL_LIMITS,
    async handler(call) {
      const account = await requireCallerAccount(call.db, call.auth.did)
      if (!account.email) throw new InvalidRequestError('This account has no email address')
      await issueAccountToken(call, account, 'confirm_email')
      return undefined
    },
  },
)
