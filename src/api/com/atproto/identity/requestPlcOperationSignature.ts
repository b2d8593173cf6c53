import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { assertPlcDid } from '../../../../accounts/plc-identity.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { LIMITS, MAIL_LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Mails the code signPlcOperation asks for (valid 15 minutes, used once; a new request
 * replaces it). A did:web account gets no code: signPlcOperation could never use it.
 */
export const requestPlcOperationSignature = defineMethod(
  'com.atproto.identity.requestPlcOperationSignature',
  {
    auth: accessFull,
    permission: [identityPermission('*')],
    rateLimits: [
      { limit: LIMITS.requestPlcOperationSignaturePerDid, key: 'account' },
      ...MAIL_LIMITS,
    ],
    async handler(call) {
      const account = await requireCallerAccount(call.db, call.auth.did)
      assertPlcDid(account.did)
      await issueAccountToken(call, account, 'plc_operation')
      return undefined
    },
  },
)
