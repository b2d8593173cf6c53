import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Issues the token signPlcOperation asks for (valid 15 minutes, used once; a new request
 * replaces it).
 *
 * @NOTE There is no email sender yet: the operator reads the token with
 * `dev.edgepds.admin.getAccountTokens` (admin auth) to pass it on; it never goes to the log.
 */
export const requestPlcOperationSignature = defineMethod(
  'com.atproto.identity.requestPlcOperationSignature',
  {
    auth: accessFull,
    permission: [identityPermission('*')],
    rateLimits: [{ limit: LIMITS.requestPlcOperationSignaturePerDid, key: 'account' }],
    async handler({ auth, db }) {
      const account = await requireCallerAccount(db, auth.did)
      const issued = await issueAccountToken(db, account.did, 'plc_operation')
      // The token is a credential: the log only says there is one to pass on.
      console.log(
        `PLC operation signature requested by ${account.did}: token in dev.edgepds.admin.getAccountTokens until ${issued.expiresAt}`,
      )
      return undefined
    },
  },
)
