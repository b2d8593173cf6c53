/**
 * The resource side: an XRPC call made with an OAuth access token. The token must come with
 * the `DPoP` scheme and a proof by the key it is bound to, for this very request (method,
 * URL, the token's hash, a current nonce); its session must still exist. A bound token sent
 * as plain Bearer, or with another key's proof, is refused (401, `WWW-Authenticate: DPoP`).
 */
import { parseJwt } from '../auth/jwt.ts'
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import { getOAuthSession } from '../db/oauth.ts'
import { XrpcError } from '../xrpc/errors.ts'
import { verifyAccessTokenJwt } from './access-token.ts'
import { DPOP_ALGORITHMS, DpopError, verifyDpopProof } from './dpop.ts'
import { currentDpopNonce } from './dpop-nonce.ts'
import { nowSeconds } from './lifetimes.ts'

/** Who calls with an OAuth access token, and what the user granted (space-separated scopes). */
export interface OAuthAuth {
  kind: 'oauth'
  did: string
  scope: string
  clientId: string
  /** The OAuth session: revoking it ends the token. */
  tokenId: string
}

/** `DPoP <token>`, or a Bearer token that is one of our OAuth access tokens. */
export function oauthTokenOf(
  request: Request,
): { scheme: 'dpop' | 'bearer'; token: string } | null {
  const header = request.headers.get('authorization')
  const match = header ? /^(DPoP|Bearer)\s+(\S+)\s*$/i.exec(header) : null
  if (!match?.[1] || !match[2]) return null
  const scheme = match[1].toLowerCase() as 'dpop' | 'bearer'
  if (scheme === 'dpop') return { scheme, token: match[2] }
  return isOAuthAccessToken(match[2]) ? { scheme, token: match[2] } : null
}

/**
 * Legacy session tokens are `at+jwt` too; only ours are bound to a key (`cnf.jkt`), which is
 * what tells a DPoP-bound token sent as Bearer from a legacy one.
 */
function isOAuthAccessToken(token: string): boolean {
  try {
    const payload = parseJwt(token).payload as { cnf?: { jkt?: unknown } }
    return typeof payload.cnf?.jkt === 'string'
  } catch {
    return false
  }
}

export async function verifyOAuthAccess(
  request: Request,
  deps: { db: Db; config: Config },
  credential: { scheme: 'dpop' | 'bearer'; token: string },
): Promise<OAuthAuth> {
  const { config, db } = deps
  if (credential.scheme === 'bearer') {
    throw refusal(
      config,
      'invalid_token',
      'This access token is DPoP-bound: use the DPoP scheme with a proof',
    )
  }
  const claims = await verifyAccessTokenJwt(config, credential.token)
  if (!claims) throw refusal(config, 'invalid_token', 'Invalid or expired access token')
  const path = new URL(request.url).pathname
  // The proof's jti claim and the session read are independent D1 round trips: in parallel,
  // judged in the same order as one after the other.
  const [proof, found] = await Promise.allSettled([
    verifyDpopProof(request, {
      db,
      config,
      htu: `${config.publicUrl}${path}`,
      accessToken: credential.token,
    }),
    getOAuthSession(db, claims.sid),
  ])
  if (proof.status === 'rejected') {
    const err: unknown = proof.reason
    if (!(err instanceof DpopError)) throw err
    if (err.kind === 'nonce') throw refusal(config, 'use_dpop_nonce', err.message)
    throw refusal(config, 'invalid_dpop_proof', err.message)
  }
  if (proof.value.jkt !== claims.jkt) {
    throw refusal(config, 'invalid_token', 'The access token is bound to another DPoP key')
  }
  if (found.status === 'rejected') throw found.reason
  const session = found.value
  if (!session || session.did !== claims.sub || session.expiresAt <= nowSeconds()) {
    throw refusal(config, 'invalid_token', 'The OAuth session has been revoked or has expired')
  }
  if (session.accountStatus === 'takendown') {
    throw new XrpcError(401, 'AccountTakedown', 'Account has been taken down')
  }
  if (session.accountStatus === null || session.accountStatus === 'deleted') {
    throw refusal(config, 'invalid_token', 'The account no longer exists')
  }
  return {
    kind: 'oauth',
    did: claims.sub,
    scope: claims.scope,
    clientId: claims.clientId,
    tokenId: claims.sid,
  }
}

/** 401 with the RFC 9449 challenge; the XRPC error name is the OAuth error code. */
function refusal(config: Config, error: string, description: string): XrpcError {
  const challenge = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", error="${error}", error_description="${description}"`
  return new XrpcError(401, error === 'invalid_token' ? 'InvalidToken' : error, description, {
    'WWW-Authenticate': challenge,
    'DPoP-Nonce': currentDpopNonce(config),
  })
}
