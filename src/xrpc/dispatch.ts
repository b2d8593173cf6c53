/**
 * The XRPC dispatcher: one place that turns `/xrpc/<nsid>` requests into handler calls.
 * It checks the HTTP verb against the Lexicon's method type, authenticates, validates and
 * coerces params and input, calls the handler, and encodes (and optionally validates) the
 * output. Errors thrown anywhere become XRPC error responses in `toErrorResponse`.
 */
import type { Config } from '../config.ts'
import { ipldToJson } from '../data/json.ts'
import { isValidNsid } from '../syntax/index.ts'
import { jsonBodyLimit, readJsonBody } from './body.ts'
import { InvalidRequestError, MethodNotImplementedError, XrpcError } from './errors.ts'
import type { HandlerOutput, RawInput, XrpcMethod } from './method.ts'
import type { XrpcSchemas } from './schemas.ts'

export type MethodRegistry = ReadonlyMap<string, XrpcMethod<unknown, unknown, unknown>>

export function createRegistry(methods: XrpcMethod<unknown, unknown, unknown>[]): MethodRegistry {
  const registry = new Map<string, XrpcMethod<unknown, unknown, unknown>>()
  for (const method of methods) {
    if (registry.has(method.nsid)) throw new Error(`duplicate XRPC method ${method.nsid}`)
    registry.set(method.nsid, method)
  }
  return registry
}

export interface DispatchDeps {
  registry: MethodRegistry
  schemas: XrpcSchemas
  env: Env
  config: Config
  waitUntil(promise: Promise<unknown>): void
  /** Called for methods we do not serve ourselves (service proxying); 501 by default. */
  fallback?: (nsid: string, request: Request) => Promise<Response>
}

export async function dispatchXrpc(
  nsid: string,
  request: Request,
  deps: DispatchDeps,
): Promise<Response> {
  if (!isValidNsid(nsid)) {
    throw new InvalidRequestError(`Invalid XRPC method name: ${nsid}`)
  }
  const method = deps.registry.get(nsid)
  if (!method) {
    if (deps.fallback) return deps.fallback(nsid, request)
    throw new MethodNotImplementedError(`Method not implemented: ${nsid}`)
  }
  const type = deps.schemas.methodType(nsid)
  checkVerb(nsid, type, request.method)

  const auth = method.auth ? await method.auth(request, deps.env, deps.config) : null
  const params = deps.schemas.validateParams(nsid, readQueryParams(request.url))
  const input = type === 'procedure' ? await readInput(nsid, request, deps.schemas) : undefined

  const output = await method.handler({
    nsid,
    params,
    input,
    auth,
    request,
    env: deps.env,
    config: deps.config,
    waitUntil: deps.waitUntil,
  })
  return encodeOutput(nsid, output, deps)
}

function checkVerb(nsid: string, type: string | null, verb: string): void {
  const expected = type === 'procedure' ? 'POST' : 'GET'
  const ok = verb === expected || (expected === 'GET' && verb === 'HEAD')
  if (!ok) {
    throw new InvalidRequestError(
      `Incorrect HTTP method (${verb}) for ${nsid}: expected ${expected}`,
    )
  }
}

function readQueryParams(url: string): Record<string, string | string[]> {
  // No prototype: a param named `__proto__` is a key like any other, not the object's type.
  const params: Record<string, string | string[]> = Object.create(null)
  for (const [key, value] of new URL(url).searchParams) {
    const existing = params[key]
    if (existing === undefined) params[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else params[key] = [existing, value]
  }
  return params
}

async function readInput(nsid: string, request: Request, schemas: XrpcSchemas): Promise<unknown> {
  const encoding = schemas.inputEncoding(nsid)
  if (encoding === null) return undefined
  if (encoding === 'application/json') {
    return schemas.validateInput(nsid, await readJsonBody(request, jsonBodyLimit(nsid)))
  }
  const length = request.headers.get('content-length')
  const raw: RawInput = {
    encoding: request.headers.get('content-type') ?? 'application/octet-stream',
    body: request.body,
    contentLength: length === null ? null : Number(length),
  }
  return raw
}

function encodeOutput(nsid: string, output: HandlerOutput, deps: DispatchDeps): Response {
  if (output instanceof Response) return output
  if (output === undefined) return new Response(null, { status: 200 })
  const encoding = output.encoding ?? 'application/json'
  if (encoding === 'application/json') {
    if (deps.config.validateResponses) {
      try {
        deps.schemas.validateOutput(nsid, output.body)
      } catch (err) {
        throw new XrpcError(
          500,
          'InternalServerError',
          `Response does not match the ${nsid} Lexicon: ${err instanceof Error ? err.message : err}`,
        )
      }
    }
    return new Response(JSON.stringify(ipldToJson(output.body)), {
      status: 200,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...output.headers },
    })
  }
  return new Response(output.body as BodyInit, {
    status: 200,
    headers: { 'Content-Type': encoding, ...output.headers },
  })
}
