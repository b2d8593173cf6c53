/**
 * The token endpoint: an authorization code (once, with its PKCE verifier, from the client
 * and DPoP key that pushed the request) opens a session; a refresh token (once, rotated)
 * continues it. Each answer is a DPoP-bound access token, the next refresh token, the
 * granted `scope` and the account (`sub`).
 */
import { randomToken } from '../auth/random-token.ts'
import {
  getOAuthSessionByRefresh,
  insertOAuthSession,
  type OAuthRequestRow,
  redeemOAuthCode,
  revokeOAuthSessionByReplay,
  rotateOAuthRefresh,
} from '../db/oauth.ts'
import { signAccessToken } from './access-token.ts'
import { authenticateClient, type ClientAuth, sameClientAuth } from './client-auth.ts'
import { type Client, resolveClient } from './client-metadata.ts'
import { answer, type OAuthDeps, readForm, requireDpop } from './endpoint.ts'
import { invalidGrant, invalidRequest, OAuthError } from './errors.ts'
import { grantedScope } from './granted-scope.ts'
import { CONFIDENTIAL_REFRESH_LIFETIME, nowSeconds, PUBLIC_SESSION_LIFETIME } from './lifetimes.ts'
import type { AuthorizationParameters } from './par.ts'
import { base64url, tokenHash } from './secrets.ts'

export const TOKEN_PATH = '/oauth/token'

export function handleToken(request: Request, deps: OAuthDeps): Promise<Response> {
  return answer(deps, async () => {
    const proof = await requireDpop(request, deps, TOKEN_PATH)
    const form = await readForm(request)
    const clientId = form.get('client_id')
    if (!clientId) throw invalidRequest('client_id is required')
    const client = await resolveClient(clientId, deps)
    const clientAuth = await authenticateClient(form, client, deps)
    const grantType = form.get('grant_type')
    if (grantType === 'authorization_code') {
      return { body: await exchangeCode(form, client, clientAuth, proof.jkt, deps) }
    }
    if (grantType === 'refresh_token') {
      return { body: await refresh(form, client, clientAuth, proof.jkt, deps) }
    }
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      'grant_type must be authorization_code or refresh_token',
    )
  })
}

async function exchangeCode(
  form: URLSearchParams,
  client: Client,
  clientAuth: ClientAuth,
  jkt: string,
  deps: OAuthDeps,
) {
  const code = form.get('code')
  const verifier = form.get('code_verifier')
  if (!code || code.length > 256) throw invalidRequest('code is required')
  if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
    throw invalidRequest('code_verifier must be 43 to 128 unreserved characters')
  }
  const codeHash = tokenHash(code)
  const request = await redeemOAuthCode(deps.db, codeHash)
  if (!request) {
    // RFC 6749 §4.1.2: a code used twice revokes what it gave the first time.
    await revokeOAuthSessionByReplay(deps.db, { codeHash })
    throw invalidGrant('Unknown, expired or already used code')
  }
  const now = nowSeconds()
  const parameters = JSON.parse(request.parameters) as AuthorizationParameters
  checkCodeRequest(request, client, clientAuth, jkt, now)
  const redirectUri = form.get('redirect_uri')
  if (redirectUri !== null && redirectUri !== parameters.redirect_uri) {
    throw invalidGrant('redirect_uri does not match the authorization request')
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  if (base64url(new Uint8Array(digest)) !== parameters.code_challenge) {
    throw invalidGrant('code_verifier does not match the code_challenge')
  }
  const did = request.did as string
  const refreshToken = `ref-${randomToken(32)}`
  const sessionId = randomToken(24)
  const lifetime =
    clientAuth.method === 'none' ? PUBLIC_SESSION_LIFETIME : CONFIDENTIAL_REFRESH_LIFETIME
  await insertOAuthSession(deps.db, {
    id: sessionId,
    did,
    clientId: client.id,
    clientName: client.metadata.client_name ?? null,
    clientAuth: JSON.stringify(clientAuth),
    scope: parameters.scope,
    dpopJkt: jkt,
    refreshHash: tokenHash(refreshToken),
    previousRefreshHash: null,
    codeHash,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + lifetime,
  })
  return tokenResponse(deps, { did, sessionId, client, scope: parameters.scope, jkt, refreshToken })
}

function checkCodeRequest(
  request: OAuthRequestRow,
  client: Client,
  clientAuth: ClientAuth,
  jkt: string,
  now: number,
): void {
  if (request.expiresAt <= now || !request.did) throw invalidGrant('The code has expired')
  if (request.clientId !== client.id) throw invalidGrant('The code was issued to another client')
  if (!sameClientAuth(JSON.parse(request.clientAuth) as ClientAuth, clientAuth)) {
    throw invalidGrant('The client authenticated differently at PAR')
  }
  if (request.dpopJkt !== jkt) {
    throw new OAuthError(400, 'invalid_dpop_proof', 'The code is bound to another DPoP key')
  }
}

async function refresh(
  form: URLSearchParams,
  client: Client,
  clientAuth: ClientAuth,
  jkt: string,
  deps: OAuthDeps,
) {
  const refreshToken = form.get('refresh_token')
  if (!refreshToken || refreshToken.length > 256) throw invalidRequest('refresh_token is required')
  const hash = tokenHash(refreshToken)
  const session = await getOAuthSessionByRefresh(deps.db, hash)
  const now = nowSeconds()
  if (!session) {
    // A rotated token presented again: someone holds a copy, so the session ends.
    await revokeOAuthSessionByReplay(deps.db, { previousRefreshHash: hash })
    throw invalidGrant('Unknown, revoked or already used refresh token')
  }
  if (session.expiresAt <= now) throw invalidGrant('The session has expired')
  if (session.clientId !== client.id) throw invalidGrant('The token was issued to another client')
  const sessionAuth = JSON.parse(session.clientAuth) as ClientAuth
  if (!sameClientAuth(sessionAuth, clientAuth)) {
    throw invalidGrant('The session is bound to another client key')
  }
  if (session.dpopJkt !== jkt) {
    throw new OAuthError(400, 'invalid_dpop_proof', 'The session is bound to another DPoP key')
  }
  const next = `ref-${randomToken(32)}`
  const expiresAt =
    sessionAuth.method === 'none' ? session.expiresAt : now + CONFIDENTIAL_REFRESH_LIFETIME
  if (!(await rotateOAuthRefresh(deps.db, hash, tokenHash(next), now, expiresAt))) {
    throw invalidGrant('The refresh token has just been used')
  }
  return tokenResponse(deps, {
    did: session.did,
    sessionId: session.id,
    client,
    scope: session.scope,
    jkt,
    refreshToken: next,
  })
}

async function tokenResponse(
  deps: OAuthDeps,
  s: {
    did: string
    sessionId: string
    client: Client
    scope: string
    jkt: string
    refreshToken: string
  },
) {
  // Recomputed at each refresh, so an updated permission set reaches existing sessions.
  const { tokenScope } = await grantedScope(s.scope, deps)
  const access = await signAccessToken(deps.config, {
    sub: s.did,
    sid: s.sessionId,
    clientId: s.client.id,
    scope: tokenScope,
    jkt: s.jkt,
  })
  return {
    access_token: access.token,
    token_type: 'DPoP',
    expires_in: access.expiresIn,
    refresh_token: s.refreshToken,
    scope: s.scope,
    sub: s.did,
  }
}
