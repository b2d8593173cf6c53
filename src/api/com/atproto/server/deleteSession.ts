import { deleteRefreshToken } from '../../../../db/sessions.ts'
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
    await deleteRefreshToken(db, auth.token.jti)
    return undefined
  },
})
