/**
 * Client authentication at PAR and the token endpoint. Public clients (`none`) prove nothing
 * but their client_id; confidential ones (`private_key_jwt`) sign an ES256 assertion with a
 * key of their `jwks` (or `jwks_uri`): issued by and about the client, for this issuer, fresh,
 * and each `jti` once. The key used is remembered, so a session is bound to it.
 */
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import { claimJti } from '../db/used-jti.ts'
import type { FetchFn } from '../identity/http.ts'
import { type Client, fetchClientJson } from './client-metadata.ts'
import { invalidClient } from './errors.ts'
import { PROOF_MAX_AGE } from './lifetimes.ts'

export type ClientAuth = { method: 'none' } | { method: 'private_key_jwt'; kid: string }

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export interface ClientAuthDeps {
  db: Db
  config: Config
  fetch?: FetchFn
}

export async function authenticateClient(
  form: URLSearchParams,
  client: Client,
  deps: ClientAuthDeps,
): Promise<ClientAuth> {
  const assertion = form.get('client_assertion')
  const assertionType = form.get('client_assertion_type')
  if (client.metadata.token_endpoint_auth_method === 'none') {
    if (assertion || assertionType) {
      throw invalidClient('This client is public: it authenticates with no assertion')
    }
    return { method: 'none' }
  }
  if (assertionType !== ASSERTION_TYPE || !assertion) {
    throw invalidClient('This client must authenticate with private_key_jwt')
  }
  let kid: string
  try {
    const header = decodeProtectedHeader(assertion)
    if (header.alg !== 'ES256' || typeof header.kid !== 'string') throw new Error()
    kid = header.kid
  } catch {
    throw invalidClient('The client assertion must be an ES256 JWT with a kid')
  }
  const keys = await clientKeys(client, deps)
  let payload: Record<string, unknown>
  try {
    const result = await jwtVerify(assertion, createLocalJWKSet(keys), {
      algorithms: ['ES256'],
      issuer: client.id,
      subject: client.id,
      audience: deps.config.publicUrl,
      maxTokenAge: PROOF_MAX_AGE,
      requiredClaims: ['jti', 'iat'],
    })
    payload = result.payload as Record<string, unknown>
  } catch (err) {
    throw invalidClient(`Invalid client assertion: ${(err as Error).message}`)
  }
  const jti = payload.jti as string
  const iat = payload.iat as number
  if (
    !(await claimJti(deps.db, `client-assertion:${client.id}:${jti}`, iat + PROOF_MAX_AGE + 60))
  ) {
    throw invalidClient('This client assertion has already been used (jti)')
  }
  return { method: 'private_key_jwt', kid }
}

/** A session opened with one key must be continued with that key. */
export function sameClientAuth(a: ClientAuth, b: ClientAuth): boolean {
  return a.method === b.method && (a.method === 'none' || a.kid === (b as { kid: string }).kid)
}

async function clientKeys(client: Client, deps: ClientAuthDeps): Promise<JSONWebKeySet> {
  const jwks =
    client.metadata.jwks ??
    (await fetchClientJson(client.metadata.jwks_uri as string, deps, 'client JWKS'))
  const keys = (jwks as { keys?: unknown }).keys
  if (!Array.isArray(keys)) throw invalidClient('The client JWKS has no keys')
  // Keys the client marked revoked, or not for signing, do not authenticate it.
  const usable = keys.filter(
    (k) => typeof k === 'object' && k !== null && !k.revoked && (k.use ?? 'sig') === 'sig',
  )
  return { keys: usable } as JSONWebKeySet
}
