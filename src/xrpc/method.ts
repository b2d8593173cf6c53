/**
 * How an XRPC method is declared. One file per method under `src/api/` exports one
 * `XrpcMethod`, built with `defineMethod`, which declares side by side who may call it
 * (`auth`), what an OAuth scope must allow (`permission`), how often (`rateLimits`) and what
 * it does (`handler`). Each of the four is required: a public method says `publicAccess`,
 * `noPermission`, `noRateLimits`. The dispatcher applies them (HTTP verb, auth, params and
 * input validation, permissions, rate limits, output validation, error mapping).
 */
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import type { Permission } from './permission.ts'
import type { RateLimitRule } from './rate-limits.ts'

/** The call as far as the dispatcher knows it before the handler: authenticated, validated. */
export interface MethodCall<Params = unknown, Input = unknown, Auth = unknown> {
  nsid: string
  params: Params
  /** Data-model form of a JSON body, or the raw body for other encodings. */
  input: Input
  auth: Auth
  request: Request
  config: Config
  db: Db
}

/** What a method's handler receives. */
export interface HandlerContext<Params = unknown, Input = unknown, Auth = unknown>
  extends MethodCall<Params, Input, Auth> {
  /** What this call was authorized for (the method's declared permissions, computed). */
  permissions: readonly Permission[]
  env: Env
  /** Work that may finish after the response (event fan-out, crawl requests). */
  waitUntil(promise: Promise<unknown>): void
}

/** A raw (non-JSON) request body, for methods like uploadBlob. */
export interface RawInput {
  encoding: string
  body: ReadableStream<Uint8Array> | null
  contentLength: number | null
}

/** A JSON body in data-model form (CIDs and bytes are converted for the wire). */
export interface JsonOutput {
  encoding?: 'application/json'
  body: unknown
  headers?: Record<string, string>
}

/** Anything else (CAR files, blobs): sent as is. */
export interface RawOutput {
  encoding: string
  body: ReadableStream<Uint8Array> | Uint8Array | string
  headers?: Record<string, string>
}

export type HandlerOutput = JsonOutput | RawOutput | Response | undefined

/** What an auth verifier may use to check credentials. */
export interface VerifierDeps {
  db: Db
  env: Env
  config: Config
}

/** Decides who is calling; throws AuthRequiredError/ForbiddenError to refuse. */
export type AuthVerifier<Auth> = (request: Request, deps: VerifierDeps) => Promise<Auth>

/** Anyone may call: no credentials are read (the handler's `auth` is null). */
export const publicAccess: AuthVerifier<null> = async () => null

/** A constant list, or one that depends on the call (applyWrites: one per write). */
export type PermissionDeclaration<Params, Input, Auth> =
  | readonly Permission[]
  | ((call: MethodCall<Params, Input, Auth>) => readonly Permission[])

export interface XrpcMethod<Params = never, Input = never, Auth = never> {
  nsid: string
  auth: AuthVerifier<Auth>
  permission: PermissionDeclaration<Params, Input, Auth>
  rateLimits: readonly RateLimitRule<MethodCall<Params, Input, Auth>>[]
  handler: (ctx: HandlerContext<Params, Input, Auth>) => Promise<HandlerOutput>
  /**
   * Forwarded as is to another service (proxied methods): the verb, params and body are not
   * checked against a Lexicon here, the service does that.
   */
  passthrough?: boolean
}

export type AnyXrpcMethod = XrpcMethod<unknown, unknown, unknown>

/** Identity function that keeps the handler's context types and erases them for the registry. */
export function defineMethod<Params = Record<string, unknown>, Input = unknown, Auth = null>(
  method: XrpcMethod<Params, Input, Auth>,
): AnyXrpcMethod {
  return method as unknown as AnyXrpcMethod
}
