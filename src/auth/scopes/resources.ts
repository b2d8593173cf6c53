/**
 * The resources of the atproto permission spec and their parameters: `repo`, `rpc`, `blob`,
 * `account`, `identity`, and the `include` of a permission set. Each is read from a scope
 * string (`repo:app.bsky.feed.post?action=create`) or from a permission object of a
 * permission-set Lexicon, and written back in the canonical string form. Anything this
 * version does not fully understand (an unknown resource, parameter or value) reads as null:
 * the spec has it ignored rather than granted half-understood.
 */
import { isValidNsid } from '../../syntax/nsid.ts'
import type { AccountAction, AccountAttr, IdentityAttr, RepoAction } from '../../xrpc/permission.ts'
import { formatScopeSyntax, parseScopeSyntax, type ScopeSyntax } from './scope-syntax.ts'

/** A permission as granted by a scope (the request side is `Permission`, src/xrpc/permission.ts). */
export type ScopePermission =
  | { resource: 'repo'; collections: readonly string[]; actions: readonly RepoAction[] }
  | { resource: 'rpc'; lxms: readonly string[]; aud: string }
  | { resource: 'blob'; accept: readonly string[] }
  | { resource: 'account'; attr: AccountAttr; actions: readonly AccountAction[] }
  | { resource: 'identity'; attr: IdentityAttr }

/** `include:<nsid>[?aud=<did#service>]`: the permissions of a permission set. */
export interface IncludeScope {
  resource: 'include'
  nsid: string
  aud: string | undefined
}

export const REPO_ACTIONS: readonly RepoAction[] = ['create', 'update', 'delete']
export const ACCOUNT_ATTRS: readonly AccountAttr[] = ['email', 'repo', 'status']
export const ACCOUNT_ACTIONS: readonly AccountAction[] = ['read', 'manage']
export const IDENTITY_ATTRS: readonly IdentityAttr[] = ['handle', '*']

/** Where parameter values come from: a scope string or a permission-set Lexicon object. */
interface ParamSource {
  positional: string | undefined
  names(): Iterable<string>
  /** undefined: absent; null: not a single value. */
  single(name: string): string | undefined | null
  /** undefined: absent; null: not a list. */
  list(name: string): readonly string[] | undefined | null
}

interface ParamRule {
  multiple: boolean
  required: boolean
  valid(value: string): boolean
}

type Rules = Record<string, ParamRule>

/** The values of `rules` (the first one positional), or null if anything is off. */
function readParams(source: ParamSource, rules: Rules): Record<string, string[]> | null {
  const known = Object.keys(rules)
  for (const name of source.names()) if (!known.includes(name)) return null
  const values: Record<string, string[]> = {}
  for (const [index, name] of known.entries()) {
    const rule = rules[name] as ParamRule
    let given: readonly string[] | undefined
    if (rule.multiple) {
      const list = source.list(name)
      if (list === null) return null
      given = list
    } else {
      const single = source.single(name)
      if (single === null) return null
      given = single === undefined ? undefined : [single]
    }
    const positional = index === 0 ? source.positional : undefined
    if (given !== undefined && positional !== undefined) return null // named twice
    const chosen = given ?? (positional === undefined ? undefined : [positional])
    if (chosen === undefined) {
      if (rule.required) return null
      continue
    }
    if (chosen.length === 0 || !chosen.every(rule.valid)) return null
    values[name] = [...chosen]
  }
  return values
}

const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): value is T =>
    (allowed as readonly string[]).includes(value)

const nsidOrWildcard = (value: string): boolean => value === '*' || isValidNsid(value)

/** `did:plc:…` or `did:web:<host>` followed by `#<service id>`, as `aud` must be. */
export function isServiceReference(value: string): boolean {
  const hash = value.indexOf('#')
  if (hash === -1) return false
  const did = value.slice(0, hash)
  const fragment = value.slice(hash + 1)
  const didOk =
    /^did:plc:[a-z2-7]{24}$/.test(did) || /^did:web:[a-zA-Z0-9.-]+(%3[aA]\d+)?$/.test(did)
  return didOk && /^[a-zA-Z0-9._~!$&'()*+,;=:@%-]+$/.test(fragment)
}

/** A MIME type or a pattern of the `accept` form: `*\/*`, `image/*`, `image/png`. */
export function isAcceptPattern(value: string): boolean {
  if (value === '*/*') return true
  if (!isTypeSlashSubtype(value)) return false
  return !value.includes('*') || (value.endsWith('/*') && value.indexOf('*') === value.length - 1)
}

export function isMimeType(value: string): boolean {
  return isTypeSlashSubtype(value) && !value.includes('*')
}

function isTypeSlashSubtype(value: string): boolean {
  const slash = value.indexOf('/')
  return (
    slash > 0 && slash < value.length - 1 && !value.includes('/', slash + 1) && !/\s/.test(value)
  )
}

const RULES = {
  repo: {
    collection: { multiple: true, required: true, valid: nsidOrWildcard },
    action: { multiple: true, required: false, valid: oneOf(REPO_ACTIONS) },
  },
  rpc: {
    lxm: { multiple: true, required: true, valid: nsidOrWildcard },
    aud: {
      multiple: false,
      required: true,
      valid: (value: string) => value === '*' || isServiceReference(value),
    },
  },
  blob: { accept: { multiple: true, required: true, valid: isAcceptPattern } },
  account: {
    attr: { multiple: false, required: true, valid: oneOf(ACCOUNT_ATTRS) },
    action: { multiple: true, required: false, valid: oneOf(ACCOUNT_ACTIONS) },
  },
  identity: { attr: { multiple: false, required: true, valid: oneOf(IDENTITY_ATTRS) } },
  include: {
    nsid: { multiple: false, required: true, valid: isValidNsid },
    aud: { multiple: false, required: false, valid: isServiceReference },
  },
} satisfies Record<string, Rules>

type Resource = keyof typeof RULES

function isResource(value: string): value is Resource {
  return Object.hasOwn(RULES, value)
}

/** Builds the resource's value from its checked params. */
function build(
  resource: Resource,
  v: Record<string, string[]>,
): ScopePermission | IncludeScope | null {
  const first = (name: string): string => (v[name] as string[])[0] as string
  switch (resource) {
    case 'repo':
      return {
        resource,
        collections: v.collection as string[],
        actions: (v.action as RepoAction[] | undefined) ?? REPO_ACTIONS,
      }
    case 'rpc': {
      const lxms = v.lxm as string[]
      // Any method on any service cannot be one permission (the spec's rule).
      if (first('aud') === '*' && lxms.includes('*')) return null
      return { resource, lxms, aud: first('aud') }
    }
    case 'blob':
      return { resource, accept: v.accept as string[] }
    case 'account':
      return {
        resource,
        attr: first('attr') as AccountAttr,
        actions: (v.action as AccountAction[] | undefined) ?? ['read'],
      }
    case 'identity':
      return { resource, attr: first('attr') as IdentityAttr }
    case 'include':
      return { resource, nsid: first('nsid'), aud: v.aud?.[0] }
  }
}

function stringSource(syntax: ScopeSyntax): ParamSource {
  return {
    positional: syntax.positional,
    names: () => syntax.params.keys(),
    single: (name) => {
      const values = syntax.params.get(name)
      if (values === undefined) return undefined
      return values.length === 1 ? (values[0] as string) : null
    },
    list: (name) => syntax.params.get(name),
  }
}

/** One scope token as a permission or an include; null for anything else. */
export function parseResourceScope(token: string): ScopePermission | IncludeScope | null {
  const syntax = parseScopeSyntax(token)
  if (!syntax || !isResource(syntax.resource)) return null
  const values = readParams(stringSource(syntax), RULES[syntax.resource])
  return values && build(syntax.resource, values)
}

/** A permission object of a permission-set Lexicon (`{type: 'permission', resource, ...}`). */
export function parseLexiconPermission(object: Record<string, unknown>): ScopePermission | null {
  const resource = object.resource
  if (typeof resource !== 'string' || !isResource(resource) || resource === 'include') return null
  const own = (name: string): unknown =>
    name !== 'type' && name !== 'resource' && Object.hasOwn(object, name) ? object[name] : undefined
  const source: ParamSource = {
    positional: undefined,
    names: () => Object.keys(object).filter((name) => own(name) !== undefined),
    single: (name) => {
      const value = own(name)
      if (value === undefined) return undefined
      return typeof value === 'string' ? value : null
    },
    list: (name) => {
      const value = own(name)
      if (value === undefined) return undefined
      return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : null
    },
  }
  const values = readParams(source, RULES[resource])
  const permission = values && build(resource, values)
  return permission?.resource === 'include' ? null : permission
}

/** The canonical scope string: defaults left out, lists sorted and without repeats. */
export function formatResourceScope(scope: ScopePermission | IncludeScope): string {
  switch (scope.resource) {
    case 'repo': {
      const collections = scope.collections.includes('*') ? ['*'] : unique(scope.collections).sort()
      const actions = REPO_ACTIONS.filter((action) => scope.actions.includes(action))
      const params = actions.length === REPO_ACTIONS.length ? [] : named('action', actions)
      return withPositional('repo', 'collection', collections, params)
    }
    case 'rpc': {
      const lxms = scope.lxms.includes('*') ? ['*'] : unique(scope.lxms).sort()
      return withPositional('rpc', 'lxm', lxms, [['aud', scope.aud]])
    }
    case 'blob':
      return withPositional('blob', 'accept', normalizeAccept(scope.accept), [])
    case 'account': {
      const actions = unique(scope.actions)
      const params = actions.length === 1 && actions[0] === 'read' ? [] : named('action', actions)
      return formatScopeSyntax('account', scope.attr, params)
    }
    case 'identity':
      return formatScopeSyntax('identity', scope.attr, [])
    case 'include':
      return formatScopeSyntax('include', scope.nsid, scope.aud ? [['aud', scope.aud]] : [])
  }
}

/** A list in the positional part when it has one value, else as repeated params first. */
function withPositional(
  resource: string,
  name: string,
  values: readonly string[],
  rest: [string, string][],
): string {
  if (values.length === 1) return formatScopeSyntax(resource, values[0], rest)
  return formatScopeSyntax(resource, undefined, [...named(name, values), ...rest])
}

function named(name: string, values: readonly string[]): [string, string][] {
  return values.map((value) => [name, value])
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}

/** `*\/*` alone when present; else lowercased, sorted, without types a wildcard covers. */
function normalizeAccept(accept: readonly string[]): string[] {
  if (accept.includes('*/*')) return ['*/*']
  const lower = unique(accept.map((value) => value.toLowerCase()))
  return lower
    .filter(
      (value) => value.endsWith('/*') || !lower.includes(`${value.slice(0, value.indexOf('/'))}/*`),
    )
    .sort()
}
