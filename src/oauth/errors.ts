/**
 * Errors of the authorization server's own endpoints (PAR, token, revoke), answered as
 * RFC 6749 `{"error", "error_description"}` bodies, not XRPC errors.
 */

export class OAuthError extends Error {
  override name = 'OAuthError'
  readonly status: number
  /** The RFC 6749 / RFC 9449 error code, e.g. `invalid_grant` or `use_dpop_nonce`. */
  readonly error: string
  readonly headers: Record<string, string>

  constructor(status: number, error: string, description: string, headers = {}) {
    super(description)
    this.status = status
    this.error = error
    this.headers = headers
  }
}

export const invalidRequest = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_request', description)

export const invalidGrant = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_grant', description)

export const invalidClient = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_client', description)

/** The JSON response for `err`; anything else is a 500 that says nothing of its cause. */
export function oauthErrorResponse(err: unknown, headers: Record<string, string> = {}): Response {
  const oauth =
    err instanceof OAuthError ? err : new OAuthError(500, 'server_error', 'Internal server error')
  if (!(err instanceof OAuthError)) console.error('oauth endpoint failed', err)
  return Response.json(
    { error: oauth.error, error_description: oauth.message },
    {
      status: oauth.status,
      headers: { 'Cache-Control': 'no-store', ...headers, ...oauth.headers },
    },
  )
}
