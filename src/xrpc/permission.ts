/**
 * Permissions: what a call does to the account's resources, in the terms of the atproto
 * permission spec, so that an OAuth scope can be checked against it. Every method declares
 * its permissions (`permission:` in `defineMethod`), as a constant or as a function of the
 * validated call; the dispatcher computes the list for each call, hands it to the one
 * `authorize` step and puts it on the handler's context (`ctx.permissions`).
 *
 * Resources, as the spec names them:
 * - `repo`: writing records of a collection (`create`, `update`, `delete`);
 * - `rpc`: a service-auth token we mint for the method `lxm` and the audience `aud` (proxied
 *   calls, getServiceAuth, preferences and feeds on the AppView);
 * - `blob`: uploading a blob of a MIME type;
 * - `account`: the account's `email`, `repo` (import) or hosting `status` (activating and
 *   deactivating it), `read` or `manage`;
 * - `identity`: the `handle`, or `*` for the whole DID document (PLC operations).
 * Reading public data needs no permission; neither does a method whose caller is not an
 * account session (admin, refresh tokens, public methods): `noPermission`. Nor does reading
 * the session itself (getSession: `atproto` alone; the email shows only with `account:email`
 * or `transition:email`, the handler asks `scopeAllows`).
 *
 * @NOTE Some methods no OAuth scope may grant at all: app passwords, asking to delete the
 * account, its invite codes. The reference PDS refuses OAuth credentials there ("OAuth
 * credentials are not supported for this endpoint"), whatever the scopes, and the spec has no
 * resource that covers them. They declare `passwordSessionOnly`: only a session opened with
 * the account's credentials (createSession) qualifies, and which kinds of those (app
 * passwords or not) is still the auth verifier's call. `transition:generic` does not change
 * this: it stands for every `repo`, `blob` and `rpc` permission (chat excepted, which needs
 * `transition:chat.bsky`), not for `account` (only `transition:email` reads the email),
 * `identity`, or `passwordSessionOnly`. The scopes themselves are parsed and matched in
 * `src/auth/scopes/`, and checked by `authorizeCall` (`src/api/authorize.ts`).
 */

export type RepoAction = 'create' | 'update' | 'delete'
export type AccountAttr = 'email' | 'repo' | 'status'
export type AccountAction = 'read' | 'manage'
export type IdentityAttr = 'handle' | '*'

export type Permission =
  | { resource: 'repo'; collection: string; action: RepoAction }
  | { resource: 'rpc'; lxm: string; aud: string }
  | { resource: 'blob'; mime: string }
  | { resource: 'account'; attr: AccountAttr; action: AccountAction }
  | { resource: 'identity'; attr: IdentityAttr }
  | { resource: 'password-session' }

/** A method that touches nothing an OAuth scope guards (or whose callers are not sessions). */
export const noPermission: readonly Permission[] = Object.freeze([])

/** A method no OAuth token may call (see the module comment). */
export const passwordSessionOnly: readonly Permission[] = Object.freeze([
  { resource: 'password-session' },
])

export function repoPermission(collection: string, action: RepoAction): Permission {
  return { resource: 'repo', collection, action }
}

export function rpcPermission(lxm: string, aud: string): Permission {
  return { resource: 'rpc', lxm, aud }
}

/** The MIME type as sent (`Content-Type`), without its parameters, lowercased. */
export function blobPermission(mime: string): Permission {
  return { resource: 'blob', mime: (mime.split(';')[0] ?? '').trim().toLowerCase() }
}

export function accountPermission(attr: AccountAttr, action: AccountAction): Permission {
  return { resource: 'account', attr, action }
}

export function identityPermission(attr: IdentityAttr): Permission {
  return { resource: 'identity', attr }
}

/** The scope-string form the spec gives (`repo:app.bsky.feed.post?action=create`), for messages and tests. */
export function formatPermission(permission: Permission): string {
  switch (permission.resource) {
    case 'repo':
      return `repo:${permission.collection}?action=${permission.action}`
    case 'rpc':
      return `rpc:${permission.lxm}?aud=${permission.aud}`
    case 'blob':
      return `blob:${permission.mime}`
    case 'account':
      return `account:${permission.attr}?action=${permission.action}`
    case 'identity':
      return `identity:${permission.attr}`
    case 'password-session':
      return 'password-session'
  }
}
