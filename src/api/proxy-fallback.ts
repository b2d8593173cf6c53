/**
 * The dispatcher's fallback for methods not in our registry: service proxying (src/proxy) for
 * an authenticated account, chat only with a full-access or privileged session.
 */
import type { Config } from '../config.ts'
import { forwardAsAccount, planProxyCall } from '../proxy/proxy-call.ts'
import { accessPrivileged, accessStandard } from './auth-verifiers.ts'

export async function proxyUnservedMethod(
  nsid: string,
  request: Request,
  env: Env,
  config: Config,
): Promise<Response> {
  const plan = planProxyCall(nsid, request, config)
  const verifier = plan.privileged ? accessPrivileged : accessStandard
  const auth = await verifier(request, env, config)
  return forwardAsAccount({ nsid, request, did: auth.did }, { env, config })
}
