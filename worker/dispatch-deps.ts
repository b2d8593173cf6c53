/**
 * What the dispatcher runs with in the Worker: our registry, the Lexicons, D1 for the handlers
 * and the rate-limit counters, the `authorize` step and service proxying for other methods.
 */

import '../src/api/app-services.ts'
import { authorizeCall } from '../src/api/authorize.ts'
import { buildRegistry } from '../src/api/index.ts'
import { proxiedMethod } from '../src/api/proxy-fallback.ts'
import type { Config } from '../src/config.ts'
import { getDb } from '../src/db/index.ts'
import { d1RateLimitStore } from '../src/rate-limit.ts'
import type { DispatchDeps } from '../src/xrpc/dispatch.ts'
import { getXrpcSchemas } from '../src/xrpc/lexicon-schemas.ts'

const registry = buildRegistry()

export function dispatchDeps(
  env: Env,
  config: Config,
  waitUntil: (promise: Promise<unknown>) => void,
): DispatchDeps {
  const db = getDb(env.DB)
  return {
    registry,
    schemas: getXrpcSchemas(),
    env,
    config,
    services: { db },
    rateLimits: d1RateLimitStore(db),
    authorize: authorizeCall,
    waitUntil,
    fallback: (nsid, request) => proxiedMethod(nsid, request, config),
  }
}
