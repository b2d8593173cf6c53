/**
 * How an XRPC method is declared. One file per method under `src/api/` exports one
 * `XrpcMethod`, built with `defineMethod`, which declares side by side who may call it
 * (`auth`), what an OAuth scope must allow (`permission`), how often (`rateLimits`) and what
 * it does (`handler`). Each of the four is required: a public method says `publicAccess`,
 * `noPermission`, `noRateLimits`. The dispatcher applies them (HTTP verb, auth, params and
 * input validation, permissions, rate limits, output validation, error mapping).
 */
import type { Config } from '../config.ts'
import type { RawBody, XrpcMethodTypes, XrpcNsid } from '../lexicon/generated/method-types.ts'
import type { Permission } from './permission.ts'
import type { ObjectCountedLimit, RateLimitRule } from './rate-limits.ts'

/**
 * What the layers above give every handler and auth verifier (D1 today). Empty here and
 * filled in by `src/api/app-services.ts` through declaration merging, so `src/xrpc` stays
 * below the storage layers it serves.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface AppServices {}

/** The call as far as the dispatcher knows it before the handler: authenticated, validated. */
export interface MethodCall<Params = unknown, Input = unknown, Auth = unknown> extends AppServices {
  nsid: string
  params: Params
  /** Data-model form of a JSON body, or the raw body for other encodings. */
  input: Input
  auth: Auth
  request: Request
  config: Config
}

/** What a method's handler receives. */
export interface HandlerContext<Params = unknown, Input = unknown, Auth = unknown>
  extends MethodCall<Params, Input, Auth> {
  /** What this call was authorized for (the method's declared permissions, computed). */
  permissions: readonly Permission[]
  /** The rate limits the account object counts with this call's write (`countedBy`). */
  accountObjectLimits: readonly ObjectCountedLimit[]
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
export interface JsonOutput<Body = unknown> {
  encoding?: 'application/json'
  body: Body
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
export interface VerifierDeps extends AppServices {
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
  /** Largest JSON request body, bytes (150 KiB when not declared; see src/xrpc/body.ts). */
  maxJsonBodyBytes?: number
  /**
   * Forwarded as is to another service (proxied methods): the verb, params and body are not
   * checked against a Lexicon here, the service does that.
   */
  passthrough?: boolean
}

export type AnyXrpcMethod = XrpcMethod<unknown, unknown, unknown>

/** A method's types as its Lexicon gives them (src/lexicon/generated/method-types.ts). */
type LexiconParams<N extends XrpcNsid> = XrpcMethodTypes[N]['params']
type LexiconInput<N extends XrpcNsid> = [XrpcMethodTypes[N]['input']] extends [RawBody]
  ? RawInput
  : XrpcMethodTypes[N]['input']
/** What the handler may return for its Lexicon's output: a `Response` always does. */
type LexiconOutput<N extends XrpcNsid> = [XrpcMethodTypes[N]['output']] extends [RawBody]
  ? RawOutput | Response
  : [XrpcMethodTypes[N]['output']] extends [undefined]
    ? undefined | Response
    : JsonOutput<XrpcMethodTypes[N]['output']> | Response

/** The policy and handler of a method whose types come from its Lexicon. */
export interface MethodSpec<N extends XrpcNsid, Auth> {
  auth: AuthVerifier<Auth>
  permission: PermissionDeclaration<LexiconParams<N>, LexiconInput<N>, Auth>
  rateLimits: readonly RateLimitRule<MethodCall<LexiconParams<N>, LexiconInput<N>, Auth>>[]
  handler: (
    ctx: HandlerContext<LexiconParams<N>, LexiconInput<N>, Auth>,
  ) => Promise<LexiconOutput<N>>
  /** Largest JSON request body, bytes (150 KiB when not declared; see src/xrpc/body.ts). */
  maxJsonBodyBytes?: number
}

/**
 * Declares a method. With its NSID first, params, input and output are its Lexicon's types and
 * `Auth` is what its verifier returns: `defineMethod('com.atproto.repo.createRecord', {...})`.
 * The one-object form with explicit types is for methods without a Lexicon (our own
 * `dev.edgepds.*`, proxied calls). Either way the registry gets the types erased.
 */
export function defineMethod<N extends XrpcNsid, Auth>(
  nsid: N,
  spec: MethodSpec<N, Auth>,
): AnyXrpcMethod
export function defineMethod<Params = Record<string, unknown>, Input = unknown, Auth = null>(
  method: XrpcMethod<Params, Input, Auth>,
): AnyXrpcMethod
export function defineMethod(nsidOrMethod: string | object, spec?: object): AnyXrpcMethod {
  const method = typeof nsidOrMethod === 'string' ? { nsid: nsidOrMethod, ...spec } : nsidOrMethod
  return method as AnyXrpcMethod
}
