/**
 * The pushed authorization request endpoint (RFC 9126), which the atproto profile makes the
 * only way in: the client authenticates, proves its DPoP key, and posts the authorization
 * request, which is checked here and stored; the browser then carries only `request_uri`.
 */
import { randomToken } from '../auth/random-token.ts'
import { insertOAuthRequest } from '../db/oauth.ts'
import { claimJti } from '../db/used-jti.ts'
import { authenticateClient } from './client-auth.ts'
import { type Client, isRegisteredRedirect, resolveClient } from './client-metadata.ts'
import { answer, type OAuthDeps, readForm, requireDpop } from './endpoint.ts'
import { invalidRequest, OAuthError } from './errors.ts'
import { grantedScope } from './granted-scope.ts'
import { AUTHORIZATION_LIFETIME, CODE_LIFETIME, nowSeconds, PAR_LIFETIME } from './lifetimes.ts'
import { toRequestUri } from './request-uri.ts'

export const PAR_PATH = '/oauth/par'

/** The authorization request as stored (`oauth_request.parameters`). */
export interface AuthorizationParameters {
  redirect_uri: string
  scope: string
  state: string
  code_challenge: string
  response_mode: 'query' | 'fragment'
  login_hint?: string
  prompt?: string
}

export function handlePar(request: Request, deps: OAuthDeps): Promise<Response> {
  return answer(deps, async () => {
    const proof = await requireDpop(request, deps, PAR_PATH)
    const form = await readForm(request)
    const clientId = form.get('client_id')
    if (!clientId) throw invalidRequest('client_id is required')
    const client = await resolveClient(clientId, deps)
    const clientAuth = await authenticateClient(form, client, deps)
    const parameters = checkAuthorizationRequest(form, client)
    parameters.scope = (await grantedScope(parameters.scope, deps)).scope
    const dpopJkt = form.get('dpop_jkt')
    if (dpopJkt !== null && dpopJkt !== proof.jkt) {
      throw invalidRequest('dpop_jkt is not the key of the DPoP proof')
    }
    const now = nowSeconds()
    // RFC 9700 §2.1.1: a challenge is used once, so a leaked one cannot be replayed.
    const challengeUntil = now + PAR_LIFETIME + AUTHORIZATION_LIFETIME + CODE_LIFETIME
    if (!(await claimJti(deps.db, `pkce:${parameters.code_challenge}`, challengeUntil))) {
      throw invalidRequest('This code_challenge has already been used')
    }
    const id = randomToken(32)
    await insertOAuthRequest(deps.db, {
      id,
      clientId: client.id,
      clientAuth: JSON.stringify(clientAuth),
      parameters: JSON.stringify(parameters),
      dpopJkt: proof.jkt,
      deviceId: null,
      did: null,
      codeHash: null,
      expiresAt: now + PAR_LIFETIME,
    })
    return { status: 201, body: { request_uri: toRequestUri(id), expires_in: PAR_LIFETIME } }
  })
}

function checkAuthorizationRequest(form: URLSearchParams, client: Client): AuthorizationParameters {
  if (form.has('request')) throw new OAuthError(400, 'request_not_supported', 'Use PAR parameters')
  if (form.has('request_uri')) throw invalidRequest('request_uri is not accepted at PAR')
  if (form.get('response_type') !== 'code') {
    throw new OAuthError(400, 'unsupported_response_type', 'response_type must be code')
  }
  const method = form.get('code_challenge_method')
  if (method !== 'S256') {
    throw invalidRequest('PKCE is required with code_challenge_method S256 (plain is refused)')
  }
  const challenge = form.get('code_challenge') ?? ''
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    throw invalidRequest('code_challenge must be a base64url SHA-256 digest')
  }
  const registered = client.metadata.redirect_uris
  const redirectUri = form.get('redirect_uri') ?? (registered.length === 1 ? registered[0] : null)
  if (!redirectUri) throw invalidRequest('redirect_uri is required')
  if (!isRegisteredRedirect(client, redirectUri)) {
    throw invalidRequest('redirect_uri is not one this client registered')
  }
  const state = form.get('state')
  if (!state || state.length > 2048) throw invalidRequest('state is required')
  const responseMode = form.get('response_mode') ?? 'query'
  if (responseMode !== 'query' && responseMode !== 'fragment') {
    throw invalidRequest('response_mode must be query or fragment')
  }
  const scope = checkScope(form.get('scope'), client)
  const parameters: AuthorizationParameters = {
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    response_mode: responseMode,
  }
  const loginHint = form.get('login_hint')
  if (loginHint && loginHint.length <= 256) parameters.login_hint = loginHint
  const prompt = form.get('prompt')
  if (prompt) parameters.prompt = prompt
  return parameters
}

/**
 * The scopes asked for: `atproto` among them, each one the client declared. Tokens this
 * server does not understand are then dropped by `grantScope` (they cannot break a login);
 * what a scope allows is decided when it is used (src/api/authorize.ts).
 */
function checkScope(raw: string | null, client: Client): string {
  const declared = new Set(client.metadata.scope.split(' ').filter(Boolean))
  const requested = (raw ?? client.metadata.scope).split(' ').filter(Boolean)
  if (!requested.includes('atproto')) {
    throw new OAuthError(400, 'invalid_scope', 'The "atproto" scope is required')
  }
  for (const scope of requested) {
    if (!declared.has(scope)) {
      throw new OAuthError(400, 'invalid_scope', `The client did not declare the scope ${scope}`)
    }
  }
  return [...new Set(requested)].join(' ')
}
