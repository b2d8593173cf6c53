/**
 * Errors of the auth primitives. Each carries the XRPC error name a handler should send; the
 * handler (not this layer) picks the status, as documented on each class.
 */

/** Why a session token (access or refresh JWT) was refused. */
export type TokenErrorCode = 'ExpiredToken' | 'InvalidToken'

/**
 * A session token that cannot be used. Map it to `InvalidRequestError(message, code)`: 400, as
 * the reference PDS does and as clients expect (they refresh on `400 ExpiredToken`). The
 * names are the ones `com.atproto.server.refreshSession` declares.
 */
export class TokenError extends Error {
  override name = 'TokenError'
  readonly code: TokenErrorCode

  constructor(code: TokenErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Why a service-auth JWT was refused; the names the reference xrpc-server sends. */
export type ServiceAuthErrorCode =
  | 'BadJwt'
  | 'BadJwtType'
  | 'JwtExpired'
  | 'BadJwtAudience'
  | 'BadJwtLexiconMethod'
  | 'BadJwtIss'
  | 'BadJwtSignature'

/** A service-auth JWT that cannot be used. Map it to `AuthRequiredError(message, code)`: 401. */
export class ServiceAuthError extends Error {
  override name = 'ServiceAuthError'
  readonly code: ServiceAuthErrorCode

  constructor(code: ServiceAuthErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** A stored password hash this module cannot read (a server-side problem, not a bad login). */
export class PasswordHashError extends Error {
  override name = 'PasswordHashError'
}

/** An encrypted signing key that cannot be decrypted: wrong secret, or damaged data. */
export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError'
}

/** A string that is not a well-formed compact JWS (three canonical base64url JSON segments). */
export class JwtFormatError extends Error {
  override name = 'JwtFormatError'
}
