/**
 * Service proxying for a signed-in account: methods we do not serve go to the service the
 * client names (`atproto-proxy`) or to the configured default, with a fresh service-auth token
 * from the account's key. The caller authenticates between the two steps:
 *
 * 1. `planProxyCall` refuses what can never be forwarded, before any auth or network work;
 * 2. (the caller checks the session, privileged for chat);
 * 3. `forwardAsAccount` checks the account is active, resolves the target, signs and forwards.
 */
import type { Config } from '../config.ts'
import { getAccountByDid } from '../db/accounts.ts'
import { getDb } from '../db/index.ts'
import type { FetchFn } from '../identity/http.ts'
import { identityServices } from '../identity/services.ts'
import {
  AuthRequiredError,
  InvalidRequestError,
  MethodNotImplementedError,
} from '../xrpc/errors.ts'
import { forwardXrpc } from './forward.ts'
import { isNeverProxied, needsPrivilegedSession } from './method-policy.ts'
import { createAccountServiceToken } from './service-token.ts'
import {
  defaultService,
  PROXY_HEADER,
  type ProxyTarget,
  parseProxyHeader,
  resolveProxyTarget,
  type ServiceDidResolver,
} from './target.ts'

export interface ProxyPlan {
  /** Chat: the session must be full access or a privileged app password. */
  privileged: boolean
}

export interface ProxyDeps {
  env: Env
  config: Config
  /** Injectable for tests; the global fetch and the cached DID resolver otherwise. */
  fetch?: FetchFn
  resolver?: ServiceDidResolver
}

export interface ForwardAsAccountOptions {
  nsid: string
  request: Request
  /** The authenticated account. */
  did: string
  /** Where to send it; by default the `atproto-proxy` header's service or the default one. */
  target?: ProxyTarget
  /** Token `aud`, when not the target's (getFeed addresses the feed generator). */
  aud?: string
  /** Token `lxm`, when not the method itself. */
  lxm?: string
  /** The body to send, when the dispatcher already read the request's. */
  body?: { bytes: Uint8Array; contentType: string }
}

/** Refuses, before authentication, a call that cannot be forwarded. */
export function planProxyCall(nsid: string, request: Request, config: Config): ProxyPlan {
  if (isNeverProxied(nsid)) throw new MethodNotImplementedError(`Method not implemented: ${nsid}`)
  const verb = request.method
  if (verb !== 'GET' && verb !== 'HEAD' && verb !== 'POST') {
    throw new InvalidRequestError(`XRPC calls are GET or POST, not ${verb}`)
  }
  const header = request.headers.get(PROXY_HEADER)
  if (header !== null) parseProxyHeader(header)
  else if (!defaultService(nsid, config)) {
    throw new MethodNotImplementedError(
      `Method not implemented: ${nsid} (no atproto-proxy header names a service for it)`,
    )
  }
  return { privileged: needsPrivilegedSession(nsid) }
}

/** Forwards a call on behalf of an authenticated account. */
export async function forwardAsAccount(
  opts: ForwardAsAccountOptions,
  deps: ProxyDeps,
): Promise<Response> {
  const { env, config } = deps
  const account = await getAccountByDid(getDb(env.DB), opts.did)
  if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
  assertActive(account.status)
  const target =
    opts.target ??
    (await resolveProxyTarget(
      opts.nsid,
      opts.request.headers.get(PROXY_HEADER),
      config,
      deps.resolver ?? identityServices(config).didResolver,
    ))
  if (!target) throw new MethodNotImplementedError(`Method not implemented: ${opts.nsid}`)
  const token = await createAccountServiceToken(config, account, {
    aud: opts.aud ?? target.aud,
    lxm: opts.lxm ?? opts.nsid,
  })
  return forwardXrpc({
    nsid: opts.nsid,
    request: opts.request,
    target,
    authorization: `Bearer ${token}`,
    limits: config.proxy,
    ...(opts.body ? { body: opts.body } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  })
}

/** Only an active account speaks to other services through us [spec:xrpc]. */
function assertActive(status: string): void {
  switch (status) {
    case 'active':
      return
    case 'deactivated':
      throw new AuthRequiredError('Account is deactivated', 'AccountDeactivated')
    case 'takendown':
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    case 'suspended':
      throw new AuthRequiredError('Account is suspended', 'AccountSuspended')
    default:
      throw new AuthRequiredError('Account is not active', 'AccountDeleted')
  }
}
