/**
 * Permission sets (`include:<nsid>[?aud=...]`): a Lexicon of type `permission-set` bundles
 * `repo` and `rpc` permissions under its own NSID's namespace. The authorization server
 * resolves each set when a session is granted (and again on refresh), and the access tokens
 * carry the permissions it expanded to, so the resource server never resolves anything.
 *
 * Resolution needs the network (the Lexicon resolution system: DNS for the NSID authority,
 * then the authority's repo), so it is behind `PermissionSetResolver`; what is here is the
 * expansion, by the spec's rules:
 * - only `repo` and `rpc` permissions; `blob`, `account`, `identity` are never in a set;
 * - no wildcards, and every collection and method under the set's namespace: the set's NSID
 *   less its last segment, or deeper (`app.example.authFull` covers `app.example.*` and
 *   `app.example.feed.*`, not `app.other.*`);
 * - an `rpc` permission names no service of its own (`aud` absent or `*`); with
 *   `inheritAud: true` it takes the `aud` of the `include:`, and is dropped when there is none;
 * - a permission with an unknown resource, parameter or value is dropped, the others kept.
 */
import type { GrantedScope } from './granted-scope.ts'
import { formatScope, parseScope } from './granted-scope.ts'
import {
  formatResourceScope,
  type IncludeScope,
  parseLexiconPermission,
  type ScopePermission,
} from './resources.ts'

/** The `main` definition of a permission-set Lexicon, as published. */
export interface PermissionSet {
  type: 'permission-set'
  title?: string
  'title:lang'?: Record<string, string>
  detail?: string
  'detail:lang'?: Record<string, string>
  permissions: readonly unknown[]
}

export interface PermissionSetResolver {
  /** The set published under `nsid`; throws when it cannot be resolved. */
  resolve(nsid: string): Promise<PermissionSet>
}

export class PermissionSetError extends Error {
  readonly nsid: string
  constructor(nsid: string, message: string) {
    super(message)
    this.name = 'PermissionSetError'
    this.nsid = nsid
  }
}

/** The permission set a Lexicon document defines, or null when it defines none. */
export function permissionSetOf(document: unknown, nsid: string): PermissionSet | null {
  if (!isObject(document) || document.id !== nsid || document.lexicon !== 1) return null
  const main = isObject(document.defs) ? document.defs.main : undefined
  if (!isObject(main) || main.type !== 'permission-set' || !Array.isArray(main.permissions)) {
    return null
  }
  return main as unknown as PermissionSet
}

const HOUR_MS = 60 * 60 * 1000
/** Refreshed after this (the spec: at most 24 hours, at least an access token's lifetime). */
export const PERMISSION_SET_STALE_MS = HOUR_MS
/** Still used, when a refresh fails, for this long (the spec recommends 90 days). */
export const PERMISSION_SET_EXPIRE_MS = 90 * 24 * HOUR_MS

/**
 * A resolver over Lexicon resolution (`resolveDocument`: `src/identity/lexicon-resolver.ts`
 * in the Worker, a stand-in in tests), with the spec's cache, per isolate: a set is resolved
 * again once stale, and a stale one that fails to resolve is still used until it expires.
 */
export function cachingPermissionSetResolver(
  resolveDocument: (nsid: string) => Promise<unknown>,
  now: () => number = Date.now,
): PermissionSetResolver {
  const cache = new Map<string, { set: PermissionSet; at: number }>()
  return {
    async resolve(nsid) {
      const cached = cache.get(nsid)
      if (cached && now() - cached.at < PERMISSION_SET_STALE_MS) return cached.set
      try {
        const set = permissionSetOf(await resolveDocument(nsid), nsid)
        if (!set) throw new Error(`${nsid} is not a permission set`)
        cache.set(nsid, { set, at: now() })
        return set
      } catch (err) {
        if (cached && now() - cached.at < PERMISSION_SET_EXPIRE_MS) return cached.set
        throw err
      }
    },
  }
}

/** The permissions an `include:` stands for, given its resolved set. */
export function expandInclude(include: IncludeScope, set: PermissionSet): ScopePermission[] {
  const expanded: ScopePermission[] = []
  for (const entry of set.permissions) {
    if (!isObject(entry) || entry.type !== 'permission') continue
    const object = withInheritedAudience(entry, include)
    if (object === null) continue
    const permission = parseLexiconPermission(object)
    if (permission && isUnderNamespace(permission, include.nsid)) expanded.push(permission)
  }
  return expanded
}

function withInheritedAudience(
  entry: Record<string, unknown>,
  include: IncludeScope,
): Record<string, unknown> | null {
  if (entry.resource !== 'rpc') return entry
  const { inheritAud, ...rest } = entry
  if (rest.aud !== undefined && rest.aud !== '*') return null // no service of its own
  if (inheritAud === undefined || inheritAud === false) return rest
  if (inheritAud !== true || rest.aud !== undefined || include.aud === undefined) return null
  return { ...rest, aud: include.aud }
}

function isUnderNamespace(permission: ScopePermission, setNsid: string): boolean {
  const names =
    permission.resource === 'repo'
      ? permission.collections
      : permission.resource === 'rpc'
        ? permission.lxms
        : null
  if (names === null) return false
  const group = setNsid.slice(0, setNsid.lastIndexOf('.') + 1)
  return names.every((name) => name !== '*' && name.length > group.length && name.startsWith(group))
}

export interface ScopeGrant {
  /**
   * What the client asked for that we understood, normalized (`include:` tokens kept): the
   * scope of the session and of the token response.
   */
  scope: string
  /**
   * What access tokens carry: `scope` with each `include:` replaced by the permissions of its
   * set. Recomputed at each refresh, so an updated set reaches existing sessions then.
   */
  tokenScope: string
}

/**
 * What to grant for a requested scope: unknown or malformed tokens dropped, permission sets
 * resolved and expanded. Throws PermissionSetError when a requested set cannot be resolved
 * (the spec: the auth request fails).
 */
export async function grantScope(
  requested: string,
  resolver: PermissionSetResolver,
): Promise<ScopeGrant> {
  const parsed = parseScope(requested)
  const permissions = [...parsed.permissions]
  for (const include of parsed.includes) {
    let set: PermissionSet
    try {
      set = await resolver.resolve(include.nsid)
    } catch (err) {
      throw new PermissionSetError(
        include.nsid,
        `could not resolve the permission set ${include.nsid}: ${err instanceof Error ? err.message : String(err)}`,
      )
    }
    permissions.push(...expandInclude(include, set))
  }
  const expanded: GrantedScope = { ...parsed, permissions, includes: [] }
  return { scope: formatScope(parsed), tokenScope: formatScope(expanded) }
}

/** The canonical scope strings of a set's permissions for one `include:` (for consent pages). */
export function includedScopes(include: IncludeScope, set: PermissionSet): string[] {
  return expandInclude(include, set).map(formatResourceScope)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
