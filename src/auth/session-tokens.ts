/**
 * Legacy session tokens: HS256 JWTs signed with PDS_JWT_SECRET, as `createSession` and
 * `refreshSession` issue them [spec:xrpc].
 *
 * - Access token: header `typ: at+jwt`, payload `{scope, sub, aud, iat, exp}`; 120 minutes.
 * - Refresh token: header `typ: refresh+jwt`, scope `com.atproto.refresh`, plus `jti` (the
 *   refresh-token row id); 90 days.
 *
 * The `typ` values keep the two kinds apart: an access token is refused where a refresh token
 * is expected and the other way round. Lifetimes, claims and the HMAC key (the UTF-8 bytes of
 * the secret) follow the reference PDS (packages/pds/src/account-manager/helpers/auth.ts), so
 * the two issue interchangeable tokens for the same secret.
 *
 * Failures throw `TokenError` with `ExpiredToken` (a genuine token past its `exp`) or
 * `InvalidToken` (anything else). The signature is checked before any claim, so an expired
 * forgery is `InvalidToken`.
 */
import { isValidDid } from '../syntax/did.ts'
import { JwtFormatError, TokenError } from './errors.ts'
import {
  epochSeconds,
  isNumericDate,
  type JsonObject,
  joinJwt,
  jwtSigningInput,
  type ParsedJwt,
  parseJwt,
} from './jwt.ts'
import { randomToken } from './random-token.ts'

export const ACCESS_TOKEN_TYP = 'at+jwt'
export const REFRESH_TOKEN_TYP = 'refresh+jwt'

export const ACCESS_TOKEN_LIFETIME_SECONDS = 120 * 60
export const REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 24 * 60 * 60

/** Full access: a session opened with the account password. */
export const SCOPE_ACCESS = 'com.atproto.access'
/** A session opened with a privileged app password (may also use chat and the like). */
export const SCOPE_APP_PASS_PRIVILEGED = 'com.atproto.appPassPrivileged'
/** A session opened with an ordinary app password. */
export const SCOPE_APP_PASS = 'com.atproto.appPass'
/** The reference's scope for a taken-down account, which may still export or delete. */
export const SCOPE_TAKENDOWN = 'com.atproto.takendown'
export const SCOPE_REFRESH = 'com.atproto.refresh'

export const ACCESS_SCOPES = [
  SCOPE_ACCESS,
  SCOPE_APP_PASS_PRIVILEGED,
  SCOPE_APP_PASS,
  SCOPE_TAKENDOWN,
] as const

export type AccessScope = (typeof ACCESS_SCOPES)[number]

export interface AccessTokenPayload {
  scope: AccessScope
  sub: string
  aud: string
  iat: number
  exp: number
  /**
   * The app password a session was opened with, so that revoking it ends the session at once
   * (the PDS checks it still exists); absent for full-access sessions.
   */
  appPassword?: string
}

export interface RefreshTokenPayload {
  scope: typeof SCOPE_REFRESH
  sub: string
  aud: string
  jti: string
  iat: number
  exp: number
}

export interface SignedToken<P> {
  jwt: string
  payload: P
}

export interface CreateAccessTokenOptions {
  did: string
  /** Set for sessions opened with an app password (see AccessTokenPayload.appPassword). */
  appPassword?: string
  /** This PDS's DID: the `aud` the token is good for. */
  serviceDid: string
  secret: string
  scope?: AccessScope
  expiresInSeconds?: number
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number
}

export interface CreateRefreshTokenOptions {
  did: string
  serviceDid: string
  secret: string
  /** The refresh-token row id; a fresh random one when omitted. */
  jti?: string
  expiresInSeconds?: number
  now?: number
}

export interface VerifyTokenOptions {
  secret: string
  /** This PDS's DID; tokens issued for any other audience are refused. */
  serviceDid: string
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number
}

const encoder = new TextEncoder()
const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const
const keyCache = new Map<string, Promise<CryptoKey>>()

export async function createAccessToken(
  opts: CreateAccessTokenOptions,
): Promise<SignedToken<AccessTokenPayload>> {
  const iat = epochSeconds(opts.now)
  const payload: AccessTokenPayload = {
    scope: opts.scope ?? SCOPE_ACCESS,
    sub: opts.did,
    aud: opts.serviceDid,
    iat,
    exp: iat + (opts.expiresInSeconds ?? ACCESS_TOKEN_LIFETIME_SECONDS),
  }
  if (opts.appPassword !== undefined) payload.appPassword = opts.appPassword
  return { jwt: await sign(ACCESS_TOKEN_TYP, { ...payload }, opts.secret), payload }
}

export async function createRefreshToken(
  opts: CreateRefreshTokenOptions,
): Promise<SignedToken<RefreshTokenPayload>> {
  const iat = epochSeconds(opts.now)
  const payload: RefreshTokenPayload = {
    scope: SCOPE_REFRESH,
    sub: opts.did,
    aud: opts.serviceDid,
    jti: opts.jti ?? randomToken(32),
    iat,
    exp: iat + (opts.expiresInSeconds ?? REFRESH_TOKEN_LIFETIME_SECONDS),
  }
  return { jwt: await sign(REFRESH_TOKEN_TYP, { ...payload }, opts.secret), payload }
}

export async function verifyAccessToken(
  token: string,
  opts: VerifyTokenOptions,
): Promise<AccessTokenPayload> {
  const claims = await verify(token, ACCESS_TOKEN_TYP, opts)
  if (!isAccessScope(claims.scope)) throw invalid('Bad token scope')
  const verified: AccessTokenPayload = {
    scope: claims.scope,
    sub: claims.sub,
    aud: claims.aud,
    iat: claims.iat,
    exp: claims.exp,
  }
  const { appPassword } = claims.payload
  if (typeof appPassword === 'string') verified.appPassword = appPassword
  else if (claims.scope === SCOPE_APP_PASS || claims.scope === SCOPE_APP_PASS_PRIVILEGED) {
    throw invalid('App-password token does not name its app password')
  }
  return verified
}

export async function verifyRefreshToken(
  token: string,
  opts: VerifyTokenOptions,
): Promise<RefreshTokenPayload> {
  const claims = await verify(token, REFRESH_TOKEN_TYP, opts)
  if (claims.scope !== SCOPE_REFRESH) throw invalid('Bad token scope')
  const { jti } = claims.payload
  if (typeof jti !== 'string' || jti.length === 0) throw invalid('Missing token id')
  return {
    scope: SCOPE_REFRESH,
    sub: claims.sub,
    aud: claims.aud,
    jti,
    iat: claims.iat,
    exp: claims.exp,
  }
}

export function isAccessScope(value: unknown): value is AccessScope {
  return (ACCESS_SCOPES as readonly unknown[]).includes(value)
}

interface CommonClaims {
  payload: JsonObject
  scope: unknown
  sub: string
  aud: string
  iat: number
  exp: number
}

async function sign(typ: string, payload: JsonObject, secret: string): Promise<string> {
  const input = jwtSigningInput({ typ, alg: 'HS256' }, payload)
  const key = await hmacKey(secret)
  const signature = await crypto.subtle.sign('HMAC', key, encoder.encode(input))
  return joinJwt(input, new Uint8Array(signature))
}

/**
 * The key each parsed token's signature was checked with. parseJwt hands back the same object
 * for the same text, so a client's next call with its token skips the HMAC; the claims (expiry,
 * audience) are still checked every time, and a rotated secret is a different key.
 */
const verifiedWith = new WeakMap<ParsedJwt, CryptoKey>()

async function verify(token: string, typ: string, opts: VerifyTokenOptions): Promise<CommonClaims> {
  let parsed: ParsedJwt
  try {
    parsed = parseJwt(token)
  } catch (err) {
    if (err instanceof JwtFormatError) throw invalid(`Malformed token: ${err.message}`)
    throw err
  }
  const { header, payload, signingInput, signature } = parsed
  // The algorithm is ours to choose, never the token's: this refuses `none` and the
  // public-key algorithms an attacker could pair with a known "key".
  if (header.alg !== 'HS256') throw invalid('Unsupported token algorithm')
  if (header.typ !== typ) throw invalid('Invalid token type')
  if (header.crit !== undefined) throw invalid('Unsupported token header')
  const key = await hmacKey(opts.secret)
  if (verifiedWith.get(parsed) !== key) {
    if (!(await crypto.subtle.verify('HMAC', key, signature, signingInput))) {
      throw invalid('Token could not be verified')
    }
    verifiedWith.set(parsed, key)
  }
  const { sub, aud, iat, exp } = payload
  if (!isNumericDate(exp) || !isNumericDate(iat)) throw invalid('Malformed token')
  if (epochSeconds(opts.now) >= exp) throw new TokenError('ExpiredToken', 'Token has expired')
  if (aud !== opts.serviceDid) throw invalid('Token was issued for another service')
  if (typeof sub !== 'string' || !isValidDid(sub)) throw invalid('Malformed token')
  return { payload, scope: payload.scope, sub, aud, iat, exp }
}

function invalid(message: string): TokenError {
  return new TokenError('InvalidToken', message)
}

function hmacKey(secret: string): Promise<CryptoKey> {
  if (secret.length === 0) throw new TypeError('the JWT secret is empty')
  let key = keyCache.get(secret)
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), HMAC, false, ['sign', 'verify'])
    // One PDS has one secret (two while rotating), so the cache stays tiny.
    if (keyCache.size >= 4) keyCache.clear()
    keyCache.set(secret, key)
  }
  return key
}
