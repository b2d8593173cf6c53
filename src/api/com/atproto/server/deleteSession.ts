import { deleteRefreshToken } from '../../../../db/sessions.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { refreshAuth } from '../../../auth-verifiers.ts'

/** Logs out: the refresh token stops working (access tokens expire on their own). */
export const deleteSession = defineMethod('com.atproto.server.deleteSession', {
  auth: refreshAuth,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ auth, db }) {
    // A token already used, revoked (its app password too) or logged out is refused, as
    // refreshSession refuses it, instead of a 200 that would hide a session still open.
    if (!(await deleteRefreshToken(db, auth.token.jti))) {
      throw new InvalidRequestError('Token has been revoked', 'ExpiredToken')
    }
    return undefined
  },
})
