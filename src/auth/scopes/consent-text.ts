/**
 * The requested permissions in plain words, for the consent page: one item per thing the
 * user grants, most far-reaching first. The page renders them (escaping the text: NSIDs and
 * set titles come from the client and from published Lexicons).
 */
import { type GrantedScope, parseScope } from './granted-scope.ts'
import { expandInclude, type PermissionSet } from './permission-sets.ts'
import { formatResourceScope, type IncludeScope, type ScopePermission } from './resources.ts'

export interface ConsentItem {
  /** The scope token this item is about. */
  scope: string
  /** One sentence. */
  text: string
  /** For a permission set: its permissions, each in plain words. */
  details?: string[]
  /** Grants far more than one app usually needs: the page may highlight it. */
  broad?: boolean
}

/**
 * Describes a scope string. `sets` holds the resolved permission sets of its `include:`
 * tokens (by NSID); one missing is described by its NSID alone. `lang` picks a set's
 * translated title and detail when it has them.
 */
export function describeScope(
  scope: string,
  sets: ReadonlyMap<string, PermissionSet> = new Map(),
  lang?: string,
): ConsentItem[] {
  const granted = parseScope(scope)
  return [
    ...describeStatic(granted),
    ...granted.includes.map((include) => describeInclude(include, sets.get(include.nsid), lang)),
    ...granted.permissions.map((permission) => ({
      scope: formatResourceScope(permission),
      text: describePermission(permission),
      ...(isBroad(permission) ? { broad: true } : {}),
    })),
  ]
}

function describeStatic(granted: GrantedScope): ConsentItem[] {
  const items: ConsentItem[] = []
  if (granted.static.has('transition:generic')) {
    items.push({
      scope: 'transition:generic',
      text: 'Act as you in almost everything, like an app password: create, change and delete any of your posts, likes, follows and other records, upload files, and use other services (feeds, notifications, lists) on your behalf. Not your direct messages, email, handle or account settings.',
      broad: true,
    })
  }
  if (granted.static.has('transition:chat.bsky')) {
    items.push({
      scope: 'transition:chat.bsky',
      text: 'Read and send your Bluesky direct messages.',
      broad: true,
    })
  }
  if (granted.static.has('transition:email')) {
    items.push({
      scope: 'transition:email',
      text: 'See your email address and whether it is confirmed.',
    })
  }
  if (granted.static.has('atproto')) {
    items.push({
      scope: 'atproto',
      text: 'Know who you are: your account identifier (DID) and handle.',
    })
  }
  return items
}

function describeInclude(
  include: IncludeScope,
  set: PermissionSet | undefined,
  lang: string | undefined,
): ConsentItem {
  const scope = `include:${include.nsid}`
  if (!set) return { scope, text: `Permissions of the set ${include.nsid}.` }
  const title = localized(set, 'title', lang) ?? include.nsid
  const detail = localized(set, 'detail', lang)
  return {
    scope,
    text: detail ? `${title}: ${detail}` : title,
    details: expandInclude(include, set).map(describePermission),
  }
}

function localized(
  set: PermissionSet,
  field: 'title' | 'detail',
  lang: string | undefined,
): string | undefined {
  const translations = set[`${field}:lang`]
  if (lang && translations) {
    const exact = translations[lang] ?? translations[lang.split('-')[0] as string]
    if (typeof exact === 'string') return exact
  }
  return typeof set[field] === 'string' ? set[field] : undefined
}

/** One granted permission in plain words. */
export function describePermission(permission: ScopePermission): string {
  switch (permission.resource) {
    case 'repo': {
      const what = permission.collections.includes('*')
        ? 'records of any type'
        : `records of type ${list(permission.collections)}`
      return `${capitalize(list(permission.actions.map(repoVerb)))} ${what} in your public repository.`
    }
    case 'rpc': {
      const methods = permission.lxms.includes('*') ? 'any method' : list(permission.lxms)
      const service = permission.aud === '*' ? 'any service' : `the service ${permission.aud}`
      return `Call ${methods} on ${service} as you.`
    }
    case 'blob':
      return `Upload ${list(permission.accept.map(mediaWords))}.`
    case 'account':
      return accountWords(permission.attr, permission.actions.includes('manage'))
    case 'identity':
      return permission.attr === '*'
        ? 'Take full control of your identity: your handle and your DID document, including moving your account to another server.'
        : 'Change your handle.'
  }
}

function repoVerb(action: string): string {
  return action === 'create' ? 'create' : action === 'update' ? 'change' : 'delete'
}

function mediaWords(accept: string): string {
  if (accept === '*/*') return 'files of any type'
  if (accept.endsWith('/*')) {
    const kind = accept.slice(0, -2)
    const named: Record<string, string> = {
      image: 'images',
      video: 'videos',
      audio: 'audio',
      text: 'text files',
    }
    return named[kind] ?? `${kind} files`
  }
  return `${accept} files`
}

function accountWords(attr: string, manage: boolean): string {
  switch (attr) {
    case 'email':
      return manage
        ? 'See and change your email address.'
        : 'See your email address and whether it is confirmed.'
    case 'repo':
      return manage
        ? 'Replace your whole repository by importing one (used to move an account here).'
        : 'Nothing (reading the repository needs no permission).'
    default:
      return manage
        ? 'Activate or deactivate your account.'
        : 'See whether your account is active on this server.'
  }
}

function isBroad(permission: ScopePermission): boolean {
  switch (permission.resource) {
    case 'repo':
      return permission.collections.includes('*')
    case 'rpc':
      return permission.lxms.includes('*')
    case 'identity':
      return permission.attr === '*'
    case 'account':
      return permission.actions.includes('manage')
    case 'blob':
      return false
  }
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
