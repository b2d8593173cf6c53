/**
 * The base of the errors domain modules throw (`src/accounts`, `src/identity`, `src/writes`,
 * `src/blobs`, ...). Each carries the XRPC error name the client gets and the kind of refusal;
 * only `src/xrpc/errors.ts` turns a kind into an HTTP status, so domain modules do not speak
 * HTTP.
 */

/** What went wrong, from the client's side; see `STATUS_OF` in src/xrpc/errors.ts. */
export type RefusalKind =
  /** The request is malformed or breaks a rule (400). */
  | 'invalid-request'
  /** The caller is not (or no longer) allowed in (401). */
  | 'auth-required'
  /** The caller is known and may not do this (403). */
  | 'forbidden'
  /** The request is larger than allowed (413). */
  | 'payload-too-large'
  /** A service we depend on failed (502). */
  | 'upstream-failure'
  /** This server is not set up to do it (501), e.g. mail without a mailer. */
  | 'not-implemented'

export class DomainError extends Error {
  readonly kind: RefusalKind
  /** The XRPC error name sent on the wire, e.g. `InvalidRequest` or a Lexicon-declared name. */
  readonly error: string

  constructor(kind: RefusalKind, error: string, message: string) {
    super(message)
    this.name = 'DomainError'
    this.kind = kind
    this.error = error
  }
}

/** A request a domain rule refuses: 400, `InvalidRequest` unless a more precise name is given. */
export class RequestRefusedError extends DomainError {
  constructor(message: string, error = 'InvalidRequest') {
    super('invalid-request', error, message)
    this.name = 'RequestRefusedError'
  }
}

/** A caller not (or no longer) allowed in: 401. */
export class NotAuthenticatedError extends DomainError {
  constructor(message: string, error = 'AuthenticationRequired') {
    super('auth-required', error, message)
    this.name = 'NotAuthenticatedError'
  }
}

/** A known caller that may not do this: 403. */
export class NotAllowedError extends DomainError {
  constructor(message: string, error = 'Forbidden') {
    super('forbidden', error, message)
    this.name = 'NotAllowedError'
  }
}

/** A request over a size limit: 413. */
export class TooLargeError extends DomainError {
  constructor(message: string, error = 'PayloadTooLarge') {
    super('payload-too-large', error, message)
    this.name = 'TooLargeError'
  }
}
