import { getDb } from '../../../../db/index.ts'
import { deleteRefreshToken } from '../../../../db/sessions.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { refreshAuth } from '../../../auth-verifiers.ts'

/** Logs out: the refresh token stops working (access tokens expire on their own). */
export const deleteSession = defineMethod({
  nsid: 'com.atproto.server.deleteSession',
  auth: refreshAuth,
  async handler({ auth, env }) {
    await deleteRefreshToken(getDb(env.DB), auth.token.jti)
    return undefined
  },
})
