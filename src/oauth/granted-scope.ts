/**
 * What the server grants for a requested scope (`grantScope`, src/auth/scopes/): unknown
 * tokens dropped, `include:` permission sets resolved (cached per isolate) and expanded for the
 * access tokens. A set that cannot be resolved fails the request, as the permission spec asks.
 */
import {
  type ConsentItem,
  describeScope,
  grantScope,
  type PermissionSet,
  PermissionSetError,
  parseScope,
  type ScopeGrant,
} from '../auth/scopes/index.ts'
import { identityServices } from '../identity/services.ts'
import type { OAuthDeps } from './endpoint.ts'
import { OAuthError } from './errors.ts'

export async function grantedScope(scope: string, deps: OAuthDeps): Promise<ScopeGrant> {
  try {
    return await grantScope(scope, identityServices(deps.config).permissionSets)
  } catch (err) {
    if (err instanceof PermissionSetError) throw new OAuthError(400, 'invalid_scope', err.message)
    throw err
  }
}

/** The consent page's plain words for a scope, permission sets described by their contents. */
export async function consentItems(scope: string, deps: OAuthDeps): Promise<ConsentItem[]> {
  const resolver = identityServices(deps.config).permissionSets
  const sets = new Map<string, PermissionSet>()
  for (const include of parseScope(scope).includes) {
    // Resolved at PAR already (cached); one failing now is shown by its NSID alone.
    const set = await resolver.resolve(include.nsid).catch(() => null)
    if (set) sets.set(include.nsid, set)
  }
  return describeScope(scope, sets)
}
