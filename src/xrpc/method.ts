/**
 * How an XRPC method is declared. One file per method under `src/api/` exports one
 * `XrpcMethod`, built with `defineMethod`; the dispatcher does the plumbing around it
 * (HTTP verb, params and input validation, auth, output validation, error mapping).
 */
import type { Config } from '../config.ts'

/** What a method's handler receives, already validated against its Lexicon. */
export interface HandlerContext<Params = Record<string, unknown>, Input = unknown, Auth = unknown> {
  nsid: string
  params: Params
  /** Data-model form of a JSON body, or the raw body for other encodings. */
  input: Input
  auth: Auth
  request: Request
  env: Env
  config: Config
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

/** Decides who is calling; throws AuthRequiredError/ForbiddenError to refuse. */
export type AuthVerifier<Auth> = (request: Request, env: Env, config: Config) => Promise<Auth>

export interface XrpcMethod<Params = never, Input = never, Auth = never> {
  nsid: string
  auth?: AuthVerifier<Auth>
  handler: (ctx: HandlerContext<Params, Input, Auth>) => Promise<HandlerOutput>
}

/** Identity function that keeps the handler's context types and erases them for the registry. */
export function defineMethod<Params = Record<string, unknown>, Input = unknown, Auth = null>(
  method: XrpcMethod<Params, Input, Auth>,
): XrpcMethod<unknown, unknown, unknown> {
  return method as unknown as XrpcMethod<unknown, unknown, unknown>
}
