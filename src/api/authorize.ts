/**
 * The dispatcher's `authorize` step: whether the caller's credentials allow the permissions a
 * call needs (`src/xrpc/permission.ts`, declared by each method).
 *
 * Legacy credentials (sessions from createSession and app passwords, refresh tokens, admin,
 * service-auth) carry no scopes: what they may do is their auth verifier's decision, so they
 * pass here unchanged. An OAuth access token (`kind: 'oauth'`, with the space-separated
 * `scope` it was granted) must have `atproto`, may call no method declared
 * `passwordSessionOnly` (403 `Forbidden`, the reference PDS's words), and must allow every
 * permission of the call (403 `ScopeMissingError` naming the scope to request, as the
 * reference PDS answers).
 */
import {
  allows,
  type GrantedScope,
  parseScope,
  scopeNeededFor,
} from '../auth/scopes/granted-scope.ts'
import type { Authorize } from '../xrpc/dispatch.ts'
import { ForbiddenError } from '../xrpc/errors.ts'
import type { Permission } from '../xrpc/permission.ts'

/** What authorization reads of an OAuth access token's auth (the verifier returns more). */
interface ScopedAuth {
  kind: 'oauth'
  scope: string
}

export class ScopeMissingError extends ForbiddenError {
  readonly scope: string
  constructor(scope: string) {
    super(`Missing required scope "${scope}"`, 'ScopeMissingError')
    this.scope = scope
  }
}

export const authorizeCall: Authorize = (permissions, auth) => {
  const granted = grantedScopeOf(auth)
  if (granted === null) return
  if (permissions.some((permission) => permission.resource === 'password-session')) {
    throw new ForbiddenError('OAuth credentials are not supported for this endpoint')
  }
  if (!granted.static.has('atproto')) throw new ScopeMissingError('atproto')
  for (const permission of permissions) {
    if (!allows(granted, permission)) throw new ScopeMissingError(scopeNeededFor(permission))
  }
}

/**
 * For handlers whose answer depends on a scope (getSession shows the email only with
 * `account:email` or `transition:email`): whether the caller's scope allows `permission`, or
 * null when the caller's credentials carry no scope (a legacy session).
 */
export function scopeAllows(auth: unknown, permission: Permission): boolean | null {
  const granted = grantedScopeOf(auth)
  return granted === null ? null : allows(granted, permission)
}

/** Whether the caller's credentials carry an OAuth scope (which then decided the call). */
export function carriesScope(auth: unknown): boolean {
  return grantedScopeOf(auth) !== null
}

function isScopedAuth(auth: unknown): auth is ScopedAuth {
  return (
    typeof auth === 'object' &&
    auth !== null &&
    (auth as { kind?: unknown }).kind === 'oauth' &&
    typeof (auth as { scope?: unknown }).scope === 'string'
  )
}

/** Parsed scopes by scope string: a client's tokens repeat the same string call after call. */
const parsedScopes = new Map<string, GrantedScope>()
const PARSED_SCOPES_KEPT = 256

function grantedScopeOf(auth: unknown): GrantedScope | null {
  if (!isScopedAuth(auth)) {
    // An OAuth token whose scope was not read must not pass as a legacy credential.
    if ((auth as { kind?: unknown } | null)?.kind === 'oauth') return parseScope('')
    return null
  }
  let granted = parsedScopes.get(auth.scope)
  if (granted === undefined) {
    granted = parseScope(auth.scope)
    if (parsedScopes.size >= PARSED_SCOPES_KEPT) {
      parsedScopes.delete(parsedScopes.keys().next().value as string)
    }
    parsedScopes.set(auth.scope, granted)
  }
  return granted
}
