/**
 * Opening and rotating sessions: a short-lived access token and a single-use refresh token
 * whose row in D1 is what makes it usable (refreshing deletes it; logging out deletes it).
 */
import {
  type AccessScope,
  createAccessToken,
  createRefreshToken,
  SCOPE_ACCESS,
  SCOPE_APP_PASS,
  SCOPE_APP_PASS_PRIVILEGED,
  SCOPE_TAKENDOWN,
} from '../auth/index.ts'
import { type Config, requireSecret } from '../config.ts'
import type { Db } from '../db/index.ts'
import { insertRefreshToken } from '../db/sessions.ts'

export interface SessionTokens {
  accessJwt: string
  refreshJwt: string
}

export interface SessionGrant {
  did: string
  /** The app password the session was opened with, or null for the account password. */
  appPassword: { name: string; privileged: boolean } | null
  /**
   * A taken-down account signing in with `allowTakendown`: its token gets the takedown scope,
   * good for getSession and the createAccount service-auth token only.
   */
  takendown?: boolean
}

export function scopeFor(grant: SessionGrant): AccessScope {
  if (grant.takendown) return SCOPE_TAKENDOWN
  if (!grant.appPassword) return SCOPE_ACCESS
  return grant.appPassword.privileged ? SCOPE_APP_PASS_PRIVILEGED : SCOPE_APP_PASS
}

/**
 * How long a used refresh token still works, as the reference PDS (2 hours): two tabs (or a
 * retry after a lost response) refreshing with the same token both get a session, with the
 * same next refresh token, instead of one of them being logged out.
 */
export const REFRESH_GRACE_MS = 2 * 60 * 60 * 1000

/** `refreshId`: the id the refresh token must have (the one a used token was rotated to). */
export async function openSession(
  db: Db,
  config: Config,
  grant: SessionGrant,
  refreshId?: string,
): Promise<SessionTokens> {
  const secret = requireSecret(config, 'jwtSecret')
  const [access, refresh] = await Promise.all([
    createAccessToken({
      did: grant.did,
      serviceDid: config.serviceDid,
      secret,
      scope: scopeFor(grant),
      appPassword: grant.appPassword?.name,
    }),
    createRefreshToken({ did: grant.did, serviceDid: config.serviceDid, secret, jti: refreshId }),
  ])
  await insertRefreshToken(db, {
    id: refresh.payload.jti,
    did: grant.did,
    appPasswordName: grant.appPassword?.name ?? null,
    expiresAt: new Date(refresh.payload.exp * 1000).toISOString(),
    nextId: null,
  })
  return { accessJwt: access.jwt, refreshJwt: refresh.jwt }
}
