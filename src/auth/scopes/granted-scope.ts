/**
 * A granted OAuth scope string, parsed once, and the one question the PDS asks of it: does it
 * allow this permission (`Permission`, what a call needs, src/xrpc/permission.ts)?
 *
 * - `atproto` is the base scope every atproto session has; alone it allows no permission.
 * - `transition:generic` allows what an app password may do: every `repo` and `blob`
 *   permission and every `rpc` one but chat (`chat.bsky.*`), which needs
 *   `transition:chat.bsky`. Not `account`, `identity` or the methods only a password session
 *   may call.
 * - `transition:email` allows reading the account's email (`account:email`).
 * - Granular permissions (`repo:`, `rpc:`, `blob:`, `account:`, `identity:`) allow what they
 *   name; `include:` tokens grant nothing here: they are expanded at grant time
 *   (`permission-sets.ts`) and an access token carries the permissions they stood for.
 * Unknown and malformed tokens are ignored, the rest of the scope still counts.
 */
import type { Permission } from '../../xrpc/permission.ts'
import {
  formatResourceScope,
  type IncludeScope,
  isMimeType,
  parseResourceScope,
  type ScopePermission,
} from './resources.ts'

export const STATIC_SCOPES = [
  'atproto',
  'transition:generic',
  'transition:email',
  'transition:chat.bsky',
] as const
export type StaticScope = (typeof STATIC_SCOPES)[number]

export interface GrantedScope {
  /** The static scopes present (`atproto`, `transition:*`). */
  static: ReadonlySet<StaticScope>
  permissions: readonly ScopePermission[]
  includes: readonly IncludeScope[]
  /** Tokens not understood, kept only to be reported. */
  ignored: readonly string[]
}

function isStaticScope(token: string): token is StaticScope {
  return (STATIC_SCOPES as readonly string[]).includes(token)
}

/** Reads a space-separated scope string. Never throws: what is not understood is ignored. */
export function parseScope(scope: string | null | undefined): GrantedScope {
  const statics = new Set<StaticScope>()
  const permissions: ScopePermission[] = []
  const includes: IncludeScope[] = []
  const ignored: string[] = []
  for (const token of (scope ?? '').split(/[ \t\n\r]+/)) {
    if (token === '') continue
    if (isStaticScope(token)) {
      statics.add(token)
      continue
    }
    const parsed = parseResourceScope(token)
    if (parsed === null) ignored.push(token)
    else if (parsed.resource === 'include') includes.push(parsed)
    else permissions.push(parsed)
  }
  return { static: statics, permissions, includes, ignored }
}

/**
 * The scope string as we would grant it: unknown and malformed tokens dropped, each kept
 * token in its canonical form, without repeats, sorted.
 */
export function normalizeScope(scope: string | null | undefined): string {
  const granted = parseScope(scope)
  return formatScope(granted)
}

export function formatScope(granted: GrantedScope): string {
  const tokens = new Set<string>(granted.static)
  for (const scope of [...granted.permissions, ...granted.includes]) {
    tokens.add(formatResourceScope(scope))
  }
  return [...tokens].sort().join(' ')
}

/** Whether the granted scope allows `permission`. `password-session` never is. */
export function allows(granted: GrantedScope, permission: Permission): boolean {
  const has = (scope: StaticScope) => granted.static.has(scope)
  switch (permission.resource) {
    case 'repo':
      return (
        has('transition:generic') ||
        granted.permissions.some(
          (p) =>
            p.resource === 'repo' &&
            p.actions.includes(permission.action) &&
            (p.collections.includes('*') || p.collections.includes(permission.collection)),
        )
      )
    case 'blob': {
      if (has('transition:generic')) return true
      const mime = permission.mime
      return (
        isMimeType(mime) &&
        granted.permissions.some(
          (p) => p.resource === 'blob' && p.accept.some((accept) => acceptMatches(accept, mime)),
        )
      )
    }
    case 'rpc': {
      const { lxm, aud } = permission
      const chat = lxm.startsWith('chat.bsky.')
      if (has('transition:generic') && (lxm === '*' || !chat)) return true
      if (has('transition:chat.bsky') && chat) return true
      return granted.permissions.some(
        (p) =>
          p.resource === 'rpc' &&
          (p.aud === '*' || p.aud === aud) &&
          (p.lxms.includes('*') || p.lxms.includes(lxm)),
      )
    }
    case 'account':
      if (has('transition:email') && permission.attr === 'email' && permission.action === 'read') {
        return true
      }
      return granted.permissions.some(
        (p) =>
          p.resource === 'account' &&
          p.attr === permission.attr &&
          (p.actions.includes('manage') || p.actions.includes(permission.action)),
      )
    case 'identity':
      return granted.permissions.some(
        (p) => p.resource === 'identity' && (p.attr === '*' || p.attr === permission.attr),
      )
    case 'password-session':
      return false
  }
}

/** The scope a client would ask for to be allowed `permission` (for error messages). */
export function scopeNeededFor(permission: Permission): string {
  switch (permission.resource) {
    case 'repo':
      return formatResourceScope({
        resource: 'repo',
        collections: [permission.collection],
        actions: [permission.action],
      })
    case 'rpc':
      return formatResourceScope({ resource: 'rpc', lxms: [permission.lxm], aud: permission.aud })
    case 'blob':
      return formatResourceScope({ resource: 'blob', accept: [permission.mime] })
    case 'account':
      return formatResourceScope({
        resource: 'account',
        attr: permission.attr,
        actions: [permission.action],
      })
    case 'identity':
      return formatResourceScope({ resource: 'identity', attr: permission.attr })
    case 'password-session':
      return 'password-session'
  }
}

function acceptMatches(accept: string, mime: string): boolean {
  if (accept === '*/*') return true
  if (accept.endsWith('/*')) return mime.startsWith(accept.slice(0, -1))
  return accept === mime
}
