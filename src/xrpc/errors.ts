/**
 * XRPC errors. Handlers throw these, domain modules throw DomainErrors (src/errors.ts), and
 * `toErrorResponse` (one place) turns any thrown value into the
 * `{"error": "<Name>", "message": "..."}` body with the status the spec gives.
 */
import { DomainError, type RefusalKind } from '../errors.ts'

export class XrpcError extends Error {
  readonly status: number
  /** The XRPC error name sent on the wire, e.g. `InvalidRequest` or a Lexicon-declared name. */
  readonly error: string
  readonly headers: Record<string, string> | undefined

  constructor(status: number, error: string, message?: string, headers?: Record<string, string>) {
    super(message ?? error)
    this.name = 'XrpcError'
    this.status = status
    this.error = error
    this.headers = headers
  }
}

/** 400. `error` may be a Lexicon-declared name such as `RecordNotFound` or `InvalidSwap`. */
export class InvalidRequestError extends XrpcError {
  constructor(message?: string, error = 'InvalidRequest') {
    super(400, error, message)
    this.name = 'InvalidRequestError'
  }
}

/** 401, with `WWW-Authenticate` as the spec asks. */
export class AuthRequiredError extends XrpcError {
  constructor(message?: string, error = 'AuthenticationRequired') {
    super(401, error, message ?? 'Authentication Required', {
      'WWW-Authenticate': 'Bearer',
    })
    this.name = 'AuthRequiredError'
  }
}

export class ForbiddenError extends XrpcError {
  constructor(message?: string, error = 'Forbidden') {
    super(403, error, message)
    this.name = 'ForbiddenError'
  }
}

export class NotFoundError extends XrpcError {
  constructor(message?: string, error = 'NotFound') {
    super(404, error, message)
    this.name = 'NotFoundError'
  }
}

export class PayloadTooLargeError extends XrpcError {
  constructor(message?: string, error = 'PayloadTooLarge') {
    super(413, error, message)
    this.name = 'PayloadTooLargeError'
  }
}

export class UnsupportedMediaTypeError extends XrpcError {
  constructor(message?: string) {
    super(415, 'UnsupportedMediaType', message)
    this.name = 'UnsupportedMediaTypeError'
  }
}

export class RateLimitExceededError extends XrpcError {
  constructor(retryAfterSeconds: number, message?: string) {
    super(429, 'RateLimitExceeded', message ?? 'Rate Limit Exceeded', {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    })
    this.name = 'RateLimitExceededError'
  }
}

export class InternalServerError extends XrpcError {
  constructor(message?: string) {
    super(500, 'InternalServerError', message ?? 'Internal Server Error')
    this.name = 'InternalServerError'
  }
}

export class MethodNotImplementedError extends XrpcError {
  constructor(message?: string) {
    super(501, 'MethodNotImplemented', message ?? 'Method Not Implemented')
    this.name = 'MethodNotImplementedError'
  }
}

export class UpstreamFailureError extends XrpcError {
  constructor(message?: string) {
    super(502, 'UpstreamFailure', message ?? 'Upstream Failure')
    this.name = 'UpstreamFailureError'
  }
}

export class NotEnoughResourcesError extends XrpcError {
  constructor(message?: string) {
    super(503, 'NotEnoughResources', message ?? 'Not Enough Resources')
    this.name = 'NotEnoughResourcesError'
  }
}

export class UpstreamTimeoutError extends XrpcError {
  constructor(message?: string) {
    super(504, 'UpstreamTimeout', message ?? 'Upstream Timeout')
    this.name = 'UpstreamTimeoutError'
  }
}

export interface ErrorBody {
  error: string
  message?: string
}

/** The HTTP status of each kind of domain refusal. */
const STATUS_OF: Record<RefusalKind, (message: string, error: string) => XrpcError> = {
  'invalid-request': (message, error) => new InvalidRequestError(message, error),
  'auth-required': (message, error) => new AuthRequiredError(message, error),
  forbidden: (message, error) => new ForbiddenError(message, error),
  'payload-too-large': (message, error) => new PayloadTooLargeError(message, error),
  'upstream-failure': (message, error) => new XrpcError(502, error, message),
  'not-implemented': (message, error) => new XrpcError(501, error, message),
}

/** The XRPC error for anything thrown: a domain error by its kind, anything unknown a 500. */
export function toXrpcError(err: unknown): XrpcError {
  if (err instanceof XrpcError) return err
  if (err instanceof DomainError) return STATUS_OF[err.kind](err.message, err.error)
  return new InternalServerError()
}

/** Turns anything thrown into an XRPC error response. Unknown errors become a generic 500. */
export function toErrorResponse(err: unknown): Response {
  const xrpc = toXrpcError(err)
  const body: ErrorBody = { error: xrpc.error, message: xrpc.message }
  return new Response(JSON.stringify(body), {
    status: xrpc.status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...xrpc.headers },
  })
}
