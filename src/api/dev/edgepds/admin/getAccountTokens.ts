import { accountTokenExpiry } from '../../../../accounts/tokens.ts'
import { listAccountTokens } from '../../../../db/account-tokens.ts'
import { getAccountByDid } from '../../../../db/accounts.ts'
import { isValidDid } from '../../../../syntax/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { type AdminAuth, adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/**
 * Operator-only, this PDS's own method (no Lexicon): the one-off tokens an account has
 * requested (account deletion...), for the operator to pass on while the PDS cannot send
 * email. `GET /xrpc/dev.edgepds.admin.getAccountTokens?did=<did>` with admin Basic auth;
 * answers `{tokens: [{purpose, token, requestedAt, expiresAt}]}`.
 */
export const getAccountTokens = defineMethod<{ did?: string | string[] }, unknown, AdminAuth>({
  nsid: 'dev.edgepds.admin.getAccountTokens',
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, db }) {
    const did = params.did
    if (typeof did !== 'string' || !isValidDid(did)) {
      throw new InvalidRequestError('Expected one `did` parameter holding a DID')
    }
    if (!(await getAccountByDid(db, did))) {
      throw new InvalidRequestError(`No account ${did} on this server`, 'AccountNotFound')
    }
    const tokens = (await listAccountTokens(db, did)).map((row) => ({
      purpose: row.purpose,
      token: row.token,
      requestedAt: row.requestedAt,
      expiresAt: accountTokenExpiry(row.requestedAt),
    }))
    return { body: { tokens } }
  },
})
