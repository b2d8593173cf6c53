/**
 * The dispatcher's fallback for methods not in our registry: service proxying (src/proxy) for
 * an authenticated account, chat only with a full-access or privileged session. Its policy is
 * declared like any method's: the permission is the service-auth token it makes us mint
 * (`rpc`, for the method and the service it goes to).
 */
import type { Config } from '../config.ts'
import { forwardAsAccount, planProxyCall } from '../proxy/proxy-call.ts'
import { defaultService, PROXY_HEADER } from '../proxy/target.ts'
import { type AnyXrpcMethod, defineMethod, type MethodCall } from '../xrpc/method.ts'
import { type Permission, rpcPermission } from '../xrpc/permission.ts'
import { noRateLimits } from '../xrpc/rate-limits.ts'
import {
  type AccessAuth,
  accessPrivileged,
  accessStandard,
  type OAuthAuth,
} from './auth-verifiers.ts'

/** Refuses, before any auth, what can never be forwarded; the method that forwards the rest. */
export function proxiedMethod(nsid: string, request: Request, config: Config): AnyXrpcMethod {
  const plan = planProxyCall(nsid, request, config)
  return defineMethod<unknown, undefined, AccessAuth | OAuthAuth>({
    nsid,
    passthrough: true,
    auth: plan.privileged ? accessPrivileged : accessStandard,
    permission: rpcToTargetService,
    rateLimits: noRateLimits,
    handler: ({ auth, env }) => forwardAsAccount({ nsid, request, did: auth.did }, { env, config }),
  })
}

/**
 * The permission to call `nsid` on the service the call goes to: the `atproto-proxy` header's,
 * else the configured default (`*` when there is none: the preferences, served here anyway).
 */
export function rpcToTargetService({ nsid, request, config }: MethodCall): Permission[] {
  const aud = request.headers.get(PROXY_HEADER)?.trim() || defaultService(nsid, config)?.did
  return [rpcPermission(nsid, aud ?? '*')]
}
