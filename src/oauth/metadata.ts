/**
 * The discovery documents: this PDS is both the resource server
 * (`/.well-known/oauth-protected-resource`) and its own authorization server
 * (`/.well-known/oauth-authorization-server`, RFC 8414 with the atproto profile's fields).
 */
import type { Config } from '../config.ts'
import { DPOP_ALGORITHMS } from './dpop.ts'

export const OAUTH_PATHS = {
  authorize: '/oauth/authorize',
  par: '/oauth/par',
  token: '/oauth/token',
  revoke: '/oauth/revoke',
} as const

export function protectedResourceMetadata(config: Config) {
  return {
    resource: config.publicUrl,
    authorization_servers: [config.publicUrl],
    scopes_supported: [],
    bearer_methods_supported: ['header'],
    resource_documentation: 'https://atproto.com',
  }
}

export function authorizationServerMetadata(config: Config) {
  const issuer = config.publicUrl
  return {
    issuer,
    authorization_endpoint: `${issuer}${OAUTH_PATHS.authorize}`,
    token_endpoint: `${issuer}${OAUTH_PATHS.token}`,
    pushed_authorization_request_endpoint: `${issuer}${OAUTH_PATHS.par}`,
    revocation_endpoint: `${issuer}${OAUTH_PATHS.revoke}`,
    require_pushed_authorization_requests: true,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['atproto', 'transition:generic', 'transition:email', 'transition:chat.bsky'],
    subject_types_supported: ['public'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256'],
    revocation_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: true,
    prompt_values_supported: ['login', 'consent', 'select_account'],
    protected_resources: [config.publicUrl],
  }
}
