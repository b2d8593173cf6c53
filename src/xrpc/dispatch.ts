/**
 * The XRPC dispatcher: one place that turns `/xrpc/<nsid>` requests into handler calls.
 * It checks the HTTP verb against the Lexicon's method type, authenticates, validates and
 * coerces params and input (and bounds the input's strings, `input-bounds.ts`), computes the method's permissions and authorizes them, applies
 * its rate limits, calls the handler, and encodes (and optionally validates) the output.
 * Errors thrown anywhere become XRPC error responses in `toErrorResponse`.
 */
import type { Config } from '../config.ts'
import { ipldToJson } from '../data/json.ts'
import { isValidNsid } from '../syntax/index.ts'
import { DEFAULT_JSON_BODY_BYTES, readJsonBody, refuseUnexpectedBody } from './body.ts'
import { InvalidRequestError, MethodNotImplementedError, toXrpcError, XrpcError } from './errors.ts'
import { checkInputStrings } from './input-bounds.ts'
import type { AnyXrpcMethod, AppServices, HandlerOutput, MethodCall, RawInput } from './method.ts'
import type { Permission } from './permission.ts'
import {
  appliesBeforeAuth,
  countedByObject,
  enforceRateLimits,
  objectCountedLimits,
  type RateLimitStore,
} from './rate-limits.ts'
import type { XrpcSchemas } from './schemas.ts'

export type MethodRegistry = ReadonlyMap<string, AnyXrpcMethod>

export function createRegistry(methods: AnyXrpcMethod[]): MethodRegistry {
  const registry = new Map<string, AnyXrpcMethod>()
  for (const method of methods) {
    if (registry.has(method.nsid)) throw new Error(`duplicate XRPC method ${method.nsid}`)
    registry.set(method.nsid, method)
  }
  return registry
}

/**
 * Whether the caller's credentials allow what the call needs; throws (403) to refuse. The one
 * place OAuth scopes are checked.
 */
export type Authorize = (
  permissions: readonly Permission[],
  auth: unknown,
  nsid: string,
) => void | Promise<void>

export interface DispatchDeps {
  registry: MethodRegistry
  schemas: XrpcSchemas
  env: Env
  config: Config
  /** Given to every handler, auth verifier and rate-limit key. */
  services: AppServices
  /** Given to auth verifiers instead, when set (the Worker's: D1 reads on the primary). */
  verifierServices?: AppServices
  rateLimits: RateLimitStore
  authorize: Authorize
  waitUntil(promise: Promise<unknown>): void
  /**
   * The method for an nsid we do not serve ourselves (service proxying), or a throw when it
   * cannot be served; 501 without one.
   */
  fallback?: (nsid: string, request: Request) => AnyXrpcMethod
}

export async function dispatchXrpc(
  nsid: string,
  request: Request,
  deps: DispatchDeps,
): Promise<Response> {
  if (!isValidNsid(nsid)) {
    throw new InvalidRequestError(`Invalid XRPC method name: ${nsid}`)
  }
  const method = deps.registry.get(nsid) ?? deps.fallback?.(nsid, request)
  if (!method) throw new MethodNotImplementedError(`Method not implemented: ${nsid}`)
  const type = method.passthrough ? null : deps.schemas.methodType(nsid)
  if (!method.passthrough) checkVerb(nsid, type, request.method)

  const limits = deps.config.rateLimitsEnabled ? method.rateLimits : []
  // Rules keyed on the address need nothing from auth or input: applied first, so that
  // failed credentials count too. Most calls have no rules: no call object, no awaits.
  const countEarlyFailure =
    limits.length === 0
      ? countNothing
      : await enforceRateLimits(
          limits.filter(appliesBeforeAuth),
          {
            nsid,
            params: undefined,
            input: undefined,
            auth: null,
            request,
            config: deps.config,
            ...deps.services,
          },
          deps.rateLimits,
        )
  try {
    const auth = await method.auth(request, verifierDeps(deps))
    const rawParams = readQueryParams(request.url)
    const call: MethodCall = {
      nsid,
      params: method.passthrough ? rawParams : deps.schemas.validateParams(nsid, rawParams),
      input:
        type === 'procedure'
          ? await readInput(nsid, request, deps.schemas, method.maxJsonBodyBytes)
          : undefined,
      auth,
      request,
      config: deps.config,
      ...deps.services,
    }
    const permissions =
      typeof method.permission === 'function' ? method.permission(call) : method.permission
    const authorized = deps.authorize(permissions, auth, nsid)
    if (authorized) await authorized
    const countFailure =
      limits.length === 0
        ? countNothing
        : await enforceRateLimits(
            limits.filter((rule) => !appliesBeforeAuth(rule) && !countedByObject(rule)),
            call,
            deps.rateLimits,
          )
    const objectLimits = limits.filter(countedByObject)
    const accountObjectLimits =
      objectLimits.length === 0 ? [] : await objectCountedLimits(objectLimits, call)
    let output: HandlerOutput
    try {
      output = await method.handler({
        ...call,
        permissions,
        accountObjectLimits,
        env: deps.env,
        waitUntil: deps.waitUntil,
      })
    } catch (err) {
      if (isCredentialFailure(err)) await countFailure()
      throw err
    }
    return encodeOutput(nsid, output, deps)
  } catch (err) {
    if (isCredentialFailure(err)) await countEarlyFailure()
    throw err
  }
}

const countNothing = async (): Promise<void> => {}

/** What rules that count failures count: credentials refused (401), not bad input. */
function isCredentialFailure(err: unknown): boolean {
  return toXrpcError(err).status === 401
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
  const start = url.indexOf('?')
  if (start < 0) return params
  const end = url.indexOf('#', start)
  // Only the query, not a whole URL parse: `new URL` was 4% of getRecord's Worker CPU.
  for (const [key, value] of new URLSearchParams(url.slice(start + 1, end < 0 ? undefined : end))) {
    const existing = params[key]
    if (existing === undefined) params[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else params[key] = [existing, value]
  }
  return params
}

async function readInput(
  nsid: string,
  request: Request,
  schemas: XrpcSchemas,
  maxJsonBodyBytes = DEFAULT_JSON_BODY_BYTES,
): Promise<unknown> {
  const encoding = schemas.inputEncoding(nsid)
  if (encoding === null) {
    refuseUnexpectedBody(request)
    return undefined
  }
  if (encoding === 'application/json') {
    const input = schemas.validateInput(nsid, await readJsonBody(request, maxJsonBodyBytes))
    checkInputStrings(input)
    return input
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

/**
 * What the auth verifier gets. The services are copied with their getters: the Worker builds
 * the primary's D1 session only when a verifier reads it, which a public call's never does.
 */
function verifierDeps(deps: DispatchDeps): AppServices & { env: Env; config: Config } {
  const services = deps.verifierServices ?? deps.services
  return Object.defineProperties(
    { env: deps.env, config: deps.config },
    Object.getOwnPropertyDescriptors(services),
  ) as AppServices & { env: Env; config: Config }
}
