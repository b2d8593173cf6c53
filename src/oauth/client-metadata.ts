/**
 * Who a `client_id` is. An https URL serving its metadata document (fetched without
 * redirects, within a size and time budget, only from hosts `checkServiceUrl` allows, and
 * cached), or a loopback development client (`http://localhost?redirect_uri=…&scope=…`),
 * whose metadata the atproto profile defines from the URL itself. In development
 * (PDS_DEV_MODE) a metadata document may also be served from loopback over http.
 */
import type { Config } from '../config.ts'
import {
  type FetchFn,
  fetchWithTimeout,
  globalFetch,
  HttpFetchError,
  readTextLimited,
} from '../identity/http.ts'
import { checkServiceUrl, isLoopbackHostname, ServiceUrlError } from '../identity/service-url.ts'
import { OAuthError } from './errors.ts'

export interface ClientMetadata {
  client_id: string
  client_name?: string
  client_uri?: string
  logo_uri?: string
  tos_uri?: string
  policy_uri?: string
  redirect_uris: string[]
  scope: string
  grant_types: string[]
  response_types: string[]
  application_type: 'web' | 'native'
  token_endpoint_auth_method: 'none' | 'private_key_jwt'
  token_endpoint_auth_signing_alg?: string
  jwks?: { keys: Record<string, unknown>[] }
  jwks_uri?: string
  dpop_bound_access_tokens: true
}

export interface Client {
  id: string
  metadata: ClientMetadata
  /** A loopback development client: public, and named by nobody. */
  loopback: boolean
}

const MAX_METADATA_BYTES = 32 * 1024
const FETCH_TIMEOUT_MS = 5_000
const CACHE_TTL_MS = 10 * 60 * 1000
const CACHE_MAX_ENTRIES = 500

const cache = new Map<string, { client: Client; until: number }>()

export const invalidClientMetadata = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_client_metadata', description)

export interface ClientResolver {
  config: Config
  fetch?: FetchFn
}

export async function resolveClient(clientId: string, deps: ClientResolver): Promise<Client> {
  if (clientId.length > 2048) throw invalidClientMetadata('client_id is too long')
  if (clientId.startsWith('http://localhost')) return loopbackClient(clientId)
  const cached = cache.get(clientId)
  if (cached && cached.until > Date.now()) return cached.client
  const metadata = validateMetadata(clientId, await fetchMetadata(clientId, deps), deps.config)
  const client = { id: clientId, metadata, loopback: false }
  if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value as string)
  cache.set(clientId, { client, until: Date.now() + CACHE_TTL_MS })
  return client
}

/** The JSON a URL serves, for metadata documents and `jwks_uri`: 200, JSON, small, no redirect. */
export async function fetchClientJson(
  raw: string,
  deps: ClientResolver,
  what: string,
): Promise<unknown> {
  let url: URL
  try {
    url = checkServiceUrl(raw, { devMode: deps.config.devMode })
  } catch (err) {
    if (err instanceof ServiceUrlError) {
      throw invalidClientMetadata(`The ${what} URL may not be fetched: ${err.message}`)
    }
    throw err
  }
  try {
    const response = await fetchWithTimeout(
      deps.fetch ?? globalFetch,
      url.href,
      { headers: { accept: 'application/json' } },
      FETCH_TIMEOUT_MS,
    )
    if (response.status !== 200) {
      await response.body?.cancel()
      throw invalidClientMetadata(`The ${what} answered ${response.status}, not 200`)
    }
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') {
      await response.body?.cancel()
      throw invalidClientMetadata(`The ${what} is not served as application/json`)
    }
    const text = await readTextLimited(response, MAX_METADATA_BYTES, url.href, FETCH_TIMEOUT_MS)
    try {
      return JSON.parse(text)
    } catch {
      throw invalidClientMetadata(`The ${what} is not valid JSON`)
    }
  } catch (err) {
    if (err instanceof HttpFetchError) {
      throw invalidClientMetadata(`Could not fetch the ${what}: ${err.message}`)
    }
    throw err
  }
}

function fetchMetadata(clientId: string, deps: ClientResolver): Promise<unknown> {
  let url: URL
  try {
    url = new URL(clientId)
  } catch {
    throw invalidClientMetadata('client_id is not a URL')
  }
  if (url.hash || url.username || url.password || url.href !== clientId) {
    throw invalidClientMetadata(
      'client_id must be a normalized URL without fragment or credentials',
    )
  }
  return fetchClientJson(clientId, deps, 'client metadata document')
}

/** The profile's loopback client: its metadata comes from its client_id alone. */
export function loopbackClient(clientId: string): Client {
  let url: URL
  try {
    url = new URL(clientId)
  } catch {
    throw invalidClientMetadata('client_id is not a URL')
  }
  if (
    url.hostname !== 'localhost' ||
    url.port ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw invalidClientMetadata('A loopback client_id is http://localhost with no port or path')
  }
  const redirects = url.searchParams.getAll('redirect_uri')
  const scopes = url.searchParams.getAll('scope')
  if (scopes.length > 1) throw invalidClientMetadata('A loopback client_id has one scope')
  for (const redirect of redirects) {
    const parsed = safeUrl(redirect)
    if (parsed?.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(parsed.hostname)) {
      throw invalidClientMetadata('Loopback redirect URIs are http://127.0.0.1 or http://[::1]')
    }
  }
  return {
    id: clientId,
    loopback: true,
    metadata: {
      client_id: clientId,
      client_name: 'Loopback client',
      redirect_uris: redirects.length > 0 ? redirects : ['http://127.0.0.1/', 'http://[::1]/'],
      scope: scopes[0] ?? 'atproto',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
    },
  }
}

function validateMetadata(clientId: string, raw: unknown, config: Config): ClientMetadata {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidClientMetadata('The client metadata is not a JSON object')
  }
  const m = raw as Record<string, unknown>
  if (m.client_id !== clientId) {
    throw invalidClientMetadata('The metadata document names another client_id')
  }
  const strings = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((v) => typeof v === 'string')
  if (!strings(m.redirect_uris) || m.redirect_uris.length === 0) {
    throw invalidClientMetadata('redirect_uris must be a non-empty list')
  }
  if (typeof m.scope !== 'string' || !m.scope.split(' ').includes('atproto')) {
    throw invalidClientMetadata('The client scope must include "atproto"')
  }
  const grantTypes = m.grant_types ?? ['authorization_code']
  if (!strings(grantTypes) || !grantTypes.includes('authorization_code')) {
    throw invalidClientMetadata('grant_types must include authorization_code')
  }
  const responseTypes = m.response_types ?? ['code']
  if (!strings(responseTypes) || !responseTypes.includes('code')) {
    throw invalidClientMetadata('response_types must include code')
  }
  if (m.dpop_bound_access_tokens !== true) {
    throw invalidClientMetadata('dpop_bound_access_tokens must be true')
  }
  const applicationType = m.application_type ?? 'web'
  if (applicationType !== 'web' && applicationType !== 'native') {
    throw invalidClientMetadata('application_type must be web or native')
  }
  const authMethod = m.token_endpoint_auth_method ?? 'none'
  if (authMethod !== 'none' && authMethod !== 'private_key_jwt') {
    throw invalidClientMetadata('token_endpoint_auth_method must be none or private_key_jwt')
  }
  if (authMethod === 'private_key_jwt') {
    if (m.token_endpoint_auth_signing_alg !== 'ES256') {
      throw invalidClientMetadata('token_endpoint_auth_signing_alg must be ES256')
    }
    const jwks = m.jwks as { keys?: unknown } | undefined
    const hasJwks = typeof jwks === 'object' && jwks !== null && Array.isArray(jwks.keys)
    if (hasJwks === (typeof m.jwks_uri === 'string')) {
      throw invalidClientMetadata('A confidential client gives exactly one of jwks and jwks_uri')
    }
  }
  const origin = new URL(clientId).origin
  for (const uri of m.redirect_uris) {
    const parsed = safeUrl(uri)
    if (!parsed || parsed.hash) throw invalidClientMetadata(`Invalid redirect URI: ${uri}`)
    const loopback = parsed.protocol === 'http:' && isLoopbackHostname(parsed.hostname)
    const https = parsed.protocol === 'https:'
    const customScheme = !['http:', 'https:'].includes(parsed.protocol)
    if (https) {
      if (applicationType === 'web' && parsed.origin !== origin && !config.devMode) {
        throw invalidClientMetadata('A web client redirects to its own origin')
      }
    } else if (customScheme) {
      if (applicationType !== 'native') {
        throw invalidClientMetadata('Only native clients use custom URI schemes')
      }
    } else if (!(loopback && (applicationType === 'native' || config.devMode))) {
      throw invalidClientMetadata(`Redirect URI not allowed: ${uri}`)
    }
  }
  for (const key of ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const) {
    const value = m[key]
    if (value !== undefined && (typeof value !== 'string' || !isWebUrl(value, config))) {
      throw invalidClientMetadata(`${key} must be an https URL`)
    }
  }
  if (m.client_name !== undefined && typeof m.client_name !== 'string') {
    throw invalidClientMetadata('client_name must be a string')
  }
  return {
    ...(m as unknown as ClientMetadata),
    grant_types: grantTypes,
    response_types: responseTypes,
    application_type: applicationType,
    token_endpoint_auth_method: authMethod,
  }
}

/** Whether `redirectUri` is one the client registered (loopback: any port, as RFC 8252 asks). */
export function isRegisteredRedirect(client: Client, redirectUri: string): boolean {
  const wanted = safeUrl(redirectUri)
  if (!wanted) return false
  return client.metadata.redirect_uris.some((registered) => {
    if (registered === redirectUri) return true
    const reg = safeUrl(registered)
    if (reg?.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(reg.hostname)) {
      return false
    }
    return (
      wanted.protocol === reg.protocol &&
      wanted.hostname === reg.hostname &&
      wanted.pathname === reg.pathname &&
      wanted.search === reg.search
    )
  })
}

function isWebUrl(value: string, config: Config): boolean {
  const url = safeUrl(value)
  if (!url) return false
  return url.protocol === 'https:' || (config.devMode && url.protocol === 'http:')
}

function safeUrl(value: string): URL | null {
  try {
    return new URL(value)
  } catch {
    return null
  }
}
