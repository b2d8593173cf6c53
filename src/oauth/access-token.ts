/**
 * OAuth access tokens: JWTs (`typ: at+jwt`) this server signs and alone verifies (HS256 with
 * a key of their own), bound to the client's DPoP key (`cnf.jkt`) and naming the session
 * (`sid`), whose row must still exist: deleting it revokes every access token at once.
 */
import { jwtVerify, SignJWT } from 'jose'
import { randomToken } from '../auth/random-token.ts'
import type { Config } from '../config.ts'
import { ACCESS_TOKEN_LIFETIME, nowSeconds } from './lifetimes.ts'
import { oauthKey } from './secrets.ts'

export const ACCESS_TOKEN_TYPE = 'at+jwt'

export interface AccessTokenClaims {
  sub: string
  sid: string
  clientId: string
  scope: string
  jkt: string
  exp: number
}

export async function signAccessToken(
  config: Config,
  claims: Omit<AccessTokenClaims, 'exp'>,
): Promise<{ token: string; expiresIn: number }> {
  const iat = nowSeconds()
  const token = await new SignJWT({
    scope: claims.scope,
    client_id: claims.clientId,
    sid: claims.sid,
    cnf: { jkt: claims.jkt },
  })
    .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE })
    .setIssuer(config.publicUrl)
    .setAudience(config.serviceDid)
    .setSubject(claims.sub)
    .setJti(randomToken(16))
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_LIFETIME)
    .sign(oauthKey(config, 'access-token'))
  return { token, expiresIn: ACCESS_TOKEN_LIFETIME }
}

/** The claims, or null for a token that is not a valid, unexpired one of ours. */
export async function verifyAccessTokenJwt(
  config: Config,
  token: string,
): Promise<AccessTokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, oauthKey(config, 'access-token'), {
      algorithms: ['HS256'],
      typ: ACCESS_TOKEN_TYPE,
      issuer: config.publicUrl,
      audience: config.serviceDid,
    })
    const cnf = payload.cnf as { jkt?: unknown } | undefined
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof payload.client_id !== 'string' ||
      typeof payload.scope !== 'string' ||
      typeof cnf?.jkt !== 'string' ||
      typeof payload.exp !== 'number'
    ) {
      return null
    }
    return {
      sub: payload.sub,
      sid: payload.sid,
      clientId: payload.client_id,
      scope: payload.scope,
      jkt: cnf.jkt,
      exp: payload.exp,
    }
  } catch {
    return null
  }
}
