/**
 * Who is calling: the auth verifiers XRPC methods declare (`auth: accessStandard`, ...).
 * Each reads the request's credentials, checks them, and returns what the handler may rely on,
 * or throws the XRPC error the spec gives (401, or 400 ExpiredToken/InvalidToken for session
 * tokens as the reference PDS and the official client expect).
 */
import {
  type AccessScope,
  checkAdminBasicAuth,
  type RefreshTokenPayload,
  SCOPE_ACCESS,
  SCOPE_APP_PASS_PRIVILEGED,
  SCOPE_TAKENDOWN,
  type ServiceAuthClaims,
  ServiceAuthError,
  TokenError,
  verifyAccessToken,
  verifyRefreshToken,
  verifyServiceAuthToken,
} from '../auth/index.ts'
import { parseJwt } from '../auth/jwt.ts'
import { type Config, requireSecret } from '../config.ts'
import { getAccountByDid } from '../db/accounts.ts'
import { getAppPassword } from '../db/sessions.ts'
import { claimJti } from '../db/used-jti.ts'
import { getVerificationMethodKey } from '../identity/did-document.ts'
import { identityServices } from '../identity/services.ts'
import { type OAuthAuth, oauthTokenOf, verifyOAuthAccess } from '../oauth/resource.ts'
import { LIMITS } from '../rate-limit.ts'
import { AuthRequiredError, InvalidRequestError } from '../xrpc/errors.ts'
import type { AuthVerifier, VerifierDeps } from '../xrpc/method.ts'
import type { RateLimitedCall, RateLimitRule } from '../xrpc/rate-limits.ts'

export interface AccessAuth {
  kind: 'access'
  did: string
  scope: AccessScope
  /** Set when the session was opened with an app password. */
  appPassword: string | null
}

export interface RefreshAuth {
  kind: 'refresh'
  did: string
  token: RefreshTokenPayload
}

export interface AdminAuth {
  kind: 'admin'
}

export type { OAuthAuth }

/**
 * The three account verifiers also accept a DPoP-bound OAuth access token, as the reference
 * PDS does: what it may do is then its scopes' decision (`authorize` in
 * `src/api/authorize.ts`, which refuses OAuth on `passwordSessionOnly` methods), not the
 * verifier's.
 */
/** Any session of the account: full access or an app password (the common case). */
export const accessStandard: AuthVerifier<AccessAuth | OAuthAuth> = (request, deps) =>
  verifyAccess(request, deps, ['full', 'privileged', 'appPass'])

/** Account management that an app password must not do (app passwords, deletion...). */
export const accessFull: AuthVerifier<AccessAuth | OAuthAuth> = (request, deps) =>
  verifyAccess(request, deps, ['full'])

/** Full access or a privileged app password (chat, and the like). */
export const accessPrivileged: AuthVerifier<AccessAuth | OAuthAuth> = (request, deps) =>
  verifyAccess(request, deps, ['full', 'privileged'])

/**
 * accessStandard, or the session a taken-down account gets with `allowTakendown`: what
 * getServiceAuth accepts so that the owner can still migrate away (it allows that session the
 * createAccount token only).
 */
export const accessStandardOrTakendown: AuthVerifier<AccessAuth | OAuthAuth> = (request, deps) =>
  verifyAccess(request, deps, ['full', 'privileged', 'appPass', 'takendown'])

/**
 * Public, but a session that comes along is checked and known (null without one): the account
 * itself may read its own repo and blobs while deactivated, as a migration's source must.
 */
export const optionalAccess: AuthVerifier<AccessAuth | OAuthAuth | null> = (request, deps) =>
  request.headers.has('authorization') ? accessStandard(request, deps) : Promise.resolve(null)

export const refreshAuth: AuthVerifier<RefreshAuth> = async (request, { config }) => {
  const token = bearerToken(request)
  const payload = await asXrpcError(() =>
    verifyRefreshToken(token, {
      secret: requireSecret(config, 'jwtSecret'),
      serviceDid: config.serviceDid,
    }),
  )
  return { kind: 'refresh', did: payload.sub, token: payload }
}

/** HTTP Basic `admin:<PDS_ADMIN_PASSWORD>`. */
export const adminAuth: AuthVerifier<AdminAuth> = async (request, { config }) => {
  const header = request.headers.get('authorization')
  if (!header) throw new AuthRequiredError('Admin authentication required', 'AuthMissing')
  if (!checkAdminBasicAuth(header, requireSecret(config, 'adminPassword'))) {
    throw new AuthRequiredError('Invalid admin credentials')
  }
  return { kind: 'admin' }
}

/** A call from the configured moderation service, by a service-auth JWT it signed. */
export interface ModeratorAuth {
  kind: 'moderator'
  /** The token's `iss` (the moderation service, possibly `#atproto_labeler`). */
  iss: string
}

/**
 * The admin password, or a service-auth JWT from the moderation service (`PDS_MOD_SERVICE_DID`)
 * addressed to this PDS for this very method: what the reference PDS's moderation methods
 * accept. A labeler's `#atproto_labeler` issuer is checked against its `#atproto_label` key.
 */
export function moderatorAuth(lxm: string): AuthVerifier<AdminAuth | ModeratorAuth> {
  return async (request, deps) => {
    const { config, db } = deps
    const header = request.headers.get('authorization') ?? ''
    if (!/^bearer\s/i.test(header)) return adminAuth(request, deps)
    const modDid = config.modServiceDid
    if (modDid === null) {
      throw new AuthRequiredError('This PDS accepts no moderation service tokens')
    }
    const token = bearerToken(request)
    const { didResolver } = identityServices(config)
    const fragment = keyFragment(token)
    const claims = await verifyIncomingServiceAuth(
      token,
      config,
      lxm,
      async (did, forceRefresh) => {
        if (did !== modDid) {
          throw new ServiceAuthError('BadJwtIss', 'jwt issuer is not the moderation service')
        }
        const doc = await didResolver.resolve(did, { forceRefresh })
        const key = doc ? getVerificationMethodKey(doc, fragment) : null
        if (!key) throw new ServiceAuthError('BadJwtIss', 'moderation service has no signing key')
        return key
      },
    )
    if (claims.iss !== modDid && claims.iss !== `${modDid}#atproto_labeler`) {
      throw new AuthRequiredError('Untrusted issuer', 'BadJwtIss')
    }
    if (claims.jti !== null && !(await claimJti(db, `${claims.iss}:${claims.jti}`, claims.exp))) {
      throw new AuthRequiredError('This service-auth token has already been used', 'BadJwt')
    }
    return { kind: 'moderator', iss: claims.iss }
  }
}

/**
 * The key a moderation service signs with: its labeler key when it speaks as a labeler. Read
 * from the token before it is verified, only to pick the key the signature must match.
 */
function keyFragment(token: string): string {
  try {
    const { iss } = parseJwt(token).payload
    return typeof iss === 'string' && iss.endsWith('#atproto_labeler')
      ? '#atproto_label'
      : '#atproto'
  } catch {
    return '#atproto'
  }
}

/** What every method behind `adminAuth` declares: wrong admin passwords are limited per address. */
export const adminRateLimits: readonly RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: LIMITS.adminAuthFailuresPerIp, key: 'ip', counts: 'failures' },
]

type SessionKind = 'full' | 'privileged' | 'appPass' | 'takendown'

async function verifyAccess(
  request: Request,
  { db, config }: VerifierDeps,
  allowed: SessionKind[],
): Promise<AccessAuth | OAuthAuth> {
  const oauth = oauthTokenOf(request)
  if (oauth) return verifyOAuthAccess(request, { db, config }, oauth)
  const token = bearerToken(request)
  const payload = await asXrpcError(() =>
    verifyAccessToken(token, {
      secret: requireSecret(config, 'jwtSecret'),
      serviceDid: config.serviceDid,
    }),
  )
  if (payload.scope === SCOPE_TAKENDOWN && !allowed.includes('takendown')) {
    throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
  }
  const kind: SessionKind =
    payload.scope === SCOPE_TAKENDOWN
      ? 'takendown'
      : payload.scope === SCOPE_ACCESS
        ? 'full'
        : payload.scope === SCOPE_APP_PASS_PRIVILEGED
          ? 'privileged'
          : 'appPass'
  if (!allowed.includes(kind)) {
    // The reference PDS's words: the Bluesky app matches this message to ask for the main
    // password instead of an app password.
    throw new InvalidRequestError('Bad token scope', 'InvalidToken')
  }
  const appPassword = payload.appPassword ?? null
  if (appPassword !== null) {
    // Stateless tokens outlive a revoked app password; this lookup ends those sessions at
    // once, also when a new app password later takes the same name.
    const row = await getAppPassword(db, payload.sub, appPassword)
    if (!row || payload.iat * 1000 < Date.parse(row.createdAt) - 1000) {
      throw new AuthRequiredError('This app password has been revoked', 'ExpiredToken')
    }
  }
  return { kind: 'access', did: payload.sub, scope: payload.scope, appPassword }
}

export function bearerToken(request: Request): string {
  const header = request.headers.get('authorization')
  if (!header) throw new AuthRequiredError('Authentication Required', 'AuthMissing')
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match?.[1]) throw new AuthRequiredError('Expected a Bearer token', 'InvalidToken')
  return match[1]
}

async function asXrpcError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof TokenError) throw new InvalidRequestError(err.message, err.code)
    throw err
  }
}

/** A service-auth JWT signed by one of our accounts, bound to the method it is used on. */
export interface ServiceAuth {
  kind: 'service'
  /** The account (the token's `iss`, without any fragment). */
  did: string
}

/**
 * A session of the account, or a service-auth JWT the account signed for this very method
 * (`lxm`) and addressed to this PDS: what the Bluesky video service sends to `uploadBlob`.
 * Each token works once when it carries a `jti`.
 */
export function accessStandardOrServiceAuth(
  lxm: string,
): AuthVerifier<AccessAuth | OAuthAuth | ServiceAuth> {
  return async (request, deps) => {
    const { db, config } = deps
    if (oauthTokenOf(request)) return accessStandard(request, deps)
    const token = bearerToken(request)
    if (!isServiceAuthToken(token)) return accessStandard(request, deps)
    const { didResolver } = identityServices(config)
    let account: Awaited<ReturnType<typeof getAccountByDid>> = null
    const claims = await verifyIncomingServiceAuth(
      token,
      config,
      lxm,
      async (did, forceRefresh) => {
        // Our own account's key is in D1; the DID document is asked only if that fails.
        account ??= await getAccountByDid(db, did)
        if (!account) throw new ServiceAuthError('BadJwtIss', 'issuer is not an account here')
        if (!forceRefresh) return account.signingKeyDid
        const data = await didResolver.resolveAtprotoData(did, { forceRefresh })
        if (!data.signingKey) throw new ServiceAuthError('BadJwtIss', 'issuer has no signing key')
        return data.signingKey
      },
    )
    const issuer = account as Awaited<ReturnType<typeof getAccountByDid>>
    if (!issuer || issuer.status === 'deleted') {
      throw new AuthRequiredError('The token was issued by an account this PDS does not hold')
    }
    if (issuer.status === 'takendown') {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    if (claims.jti !== null && !(await claimJti(db, `${claims.iss}:${claims.jti}`, claims.exp))) {
      throw new AuthRequiredError('This service-auth token has already been used', 'BadJwt')
    }
    return { kind: 'service', did: claims.issDid }
  }
}

/**
 * Checks a service-auth JWT addressed to this PDS (its DID, bare or `#atproto_pds`) for the
 * method `lxm`; any failure is a 401 naming why.
 */
export async function verifyIncomingServiceAuth(
  token: string,
  config: Config,
  lxm: string,
  resolveSigningKey: (did: string, forceRefresh: boolean) => Promise<string>,
): Promise<ServiceAuthClaims> {
  try {
    return await verifyServiceAuthToken(token, {
      audience: [config.serviceDid, `${config.serviceDid}#atproto_pds`],
      lxm,
      resolveSigningKey: (did, { forceRefresh }) => resolveSigningKey(did, forceRefresh),
    })
  } catch (err) {
    if (err instanceof ServiceAuthError) throw new AuthRequiredError(err.message, err.code)
    throw new AuthRequiredError(`Could not verify the service-auth token: ${messageOf(err)}`)
  }
}

/** Service-auth JWTs are signed with an account key (ES256K/ES256); session tokens are not. */
function isServiceAuthToken(token: string): boolean {
  try {
    const { header } = parseJwt(token)
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : null
    if (typ === 'at+jwt' || typ === 'refresh+jwt' || typ === 'dpop+jwt') return false
    return header.alg === 'ES256K' || header.alg === 'ES256'
  } catch {
    return false
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
