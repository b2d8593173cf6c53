import { randomToken } from '../../../../auth/index.ts'
import { getAccountByDid } from '../../../../db/accounts.ts'
import { getAppPassword, rotateRefreshToken } from '../../../../db/sessions.ts'
import { openSession, REFRESH_GRACE_MS } from '../../../../sessions/open.ts'
import { sessionView } from '../../../../sessions/view.ts'
import { AuthRequiredError, InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { refreshAuth } from '../../../auth-verifiers.ts'

/**
 * Trades a refresh token for a new access and refresh token. A used token keeps working for a
 * grace period (REFRESH_GRACE_MS), giving the same next refresh token each time.
 */
export const refreshSession = defineMethod('com.atproto.server.refreshSession', {
  auth: refreshAuth,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ auth, config, db }) {
    const now = new Date()
    const row = await rotateRefreshToken(
      db,
      auth.token.jti,
      randomToken(32),
      now,
      new Date(now.getTime() + REFRESH_GRACE_MS),
    )
    if (!row || row.did !== auth.did) {
      throw new InvalidRequestError('Token has been revoked', 'ExpiredToken')
    }
    const account = await getAccountByDid(db, auth.did)
    if (!account) throw new InvalidRequestError('Account not found', 'InvalidToken')
    if (account.status === 'takendown') {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    let appPassword: { name: string; privileged: boolean } | null = null
    if (row.appPasswordName !== null) {
      const app = await getAppPassword(db, auth.did, row.appPasswordName)
      if (!app) throw new InvalidRequestError('This app password has been revoked', 'ExpiredToken')
      appPassword = { name: app.name, privileged: app.privileged }
    }
    const tokens = await openSession(
      db,
      config,
      { did: auth.did, appPassword },
      row.nextId ?? undefined,
    )
    return { body: { ...tokens, ...sessionView(account, { showEmail: appPassword === null }) } }
  },
})
