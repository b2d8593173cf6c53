/**
 * Which methods may leave this PDS, and with what session.
 *
 * - Never proxied: the namespaces about this PDS's own accounts and repositories. A method
 *   there that we do not serve is `MethodNotImplemented`, even with an `atproto-proxy` header:
 *   the Bluesky app sends that header on every call, and an account-management call must
 *   never reach an AppView signed with the user's key.
 * - Protected: account management that no service-auth token may be minted for either
 *   (getServiceAuth refuses these `lxm`); the list the reference PDS keeps.
 * - Privileged: chat, and service-auth tokens for `createAccount` (what a new PDS accepts to
 *   import the account's identity), need a full-access session or a privileged app password;
 *   the reference PDS's list (chat methods, which we match by prefix, and createAccount).
 */

const NEVER_PROXIED_PREFIXES = [
  'com.atproto.server.',
  'com.atproto.admin.',
  'com.atproto.identity.',
  'com.atproto.repo.',
  'com.atproto.sync.',
  // This PDS's own operator methods.
  'dev.edgepds.',
]

const PROTECTED_METHODS = new Set([
  'com.atproto.admin.sendEmail',
  'com.atproto.identity.requestPlcOperationSignature',
  'com.atproto.identity.signPlcOperation',
  'com.atproto.identity.updateHandle',
  'com.atproto.server.activateAccount',
  'com.atproto.server.confirmEmail',
  'com.atproto.server.createAppPassword',
  'com.atproto.server.deactivateAccount',
  'com.atproto.server.deleteAccount',
  'com.atproto.server.getAccountInviteCodes',
  'com.atproto.server.getSession',
  'com.atproto.server.listAppPasswords',
  'com.atproto.server.requestAccountDelete',
  'com.atproto.server.requestEmailConfirmation',
  'com.atproto.server.requestEmailUpdate',
  'com.atproto.server.requestPasswordReset',
  'com.atproto.server.resetPassword',
  'com.atproto.server.revokeAppPassword',
  'com.atproto.server.updateEmail',
])

const PRIVILEGED_PREFIXES = ['chat.bsky.']
/**
 * A token for these starts moving the account to another PDS: only the account password's
 * own session may ask for one, never an app password, privileged or not (a stolen app
 * password must not be enough to take the identity away).
 */
const FULL_ACCESS_ONLY_METHODS = new Set(['com.atproto.server.createAccount'])

export function isNeverProxied(nsid: string): boolean {
  return NEVER_PROXIED_PREFIXES.some((prefix) => nsid.startsWith(prefix))
}

/** Account management: never proxied and no service-auth token may name it. */
export function isProtectedMethod(nsid: string): boolean {
  return PROTECTED_METHODS.has(nsid)
}

/** Methods an ordinary app password may not use (through the proxy or a service token). */
export function needsPrivilegedSession(nsid: string): boolean {
  return (
    FULL_ACCESS_ONLY_METHODS.has(nsid) ||
    PRIVILEGED_PREFIXES.some((prefix) => nsid.startsWith(prefix))
  )
}

/** Methods a service-auth token may name only for a full-access (password) session. */
export function needsFullAccessSession(nsid: string): boolean {
  return FULL_ACCESS_ONLY_METHODS.has(nsid)
}
