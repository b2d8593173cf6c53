/**
 * What the dispatcher runs with in the Worker: our registry, the Lexicons, D1 for the handlers
 * (the request's session, src/db/session.ts) and for auth verifiers and the rate-limit counters
 * (the primary), the `authorize` step and service proxying for other methods.
 */

import '../src/api/app-services.ts'
import { authorizeCall } from '../src/api/authorize.ts'
import { buildRegistry } from '../src/api/index.ts'
import { proxiedMethod } from '../src/api/proxy-fallback.ts'
import type { Config } from '../src/config.ts'
import type { RequestSessions } from '../src/db/session.ts'
import { d1RateLimitStore } from '../src/rate-limit.ts'
import type { DispatchDeps } from '../src/xrpc/dispatch.ts'
import { getXrpcSchemas } from '../src/xrpc/lexicon-schemas.ts'

const registry = buildRegistry()

export function dispatchDeps(
  env: Env,
  config: Config,
  waitUntil: (promise: Promise<unknown>) => void,
  sessions: RequestSessions,
): DispatchDeps {
  return {
    registry,
    schemas: getXrpcSchemas(),
    env,
    config,
    services: { db: sessions.db },
    // Getters: the primary's session is built only for a call that reads it.
    verifierServices: {
      get db() {
        return sessions.primary
      },
    },
    rateLimits: d1RateLimitStore(() => sessions.primary),
    authorize: authorizeCall,
    waitUntil,
    fallback: (nsid, request) => proxiedMethod(nsid, request, config),
  }
}
