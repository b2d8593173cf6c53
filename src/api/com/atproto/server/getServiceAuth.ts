import { requireCallerAccount, requireTakendownAccount } from '../../../../accounts/caller.ts'
import { SCOPE_ACCESS, SCOPE_APP_PASS_PRIVILEGED, SCOPE_TAKENDOWN } from '../../../../auth/index.ts'
import {
  isProtectedMethod,
  needsFullAccessSession,
  needsPrivilegedSession,
} from '../../../../proxy/method-policy.ts'
import { createAccountServiceToken } from '../../../../proxy/service-token.ts'
import { isValidDid } from '../../../../syntax/did.ts'
import { AuthRequiredError, InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { rpcPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandardOrTakendown } from '../../../auth-verifiers.ts'
import { carriesScope } from '../../../authorize.ts'

const MIGRATION_LXM = 'com.atproto.server.createAccount'
const MINUTE = 60
const HOUR = 60 * MINUTE

/**
 * A service-auth token signed with the account's key, for the client to present to another
 * service (the video service, a new PDS during migration...). Limits as the reference PDS:
 * `exp` within the hour, within the minute for a token bound to no method; no tokens for
 * account management; chat methods need a full-access or privileged session. A taken-down
 * account's session (createSession `allowTakendown`) gets the createAccount token only: the
 * owner may migrate to another PDS.
 */
export const getServiceAuth = defineMethod('com.atproto.server.getServiceAuth', {
  auth: accessStandardOrTakendown,
  permission: ({ params }) => [rpcPermission(params.lxm ?? '*', params.aud)],
  rateLimits: noRateLimits,
  async handler({ params, auth, config, db }) {
    const { aud } = params
    const lxm = params.lxm ?? null
    if (!isServiceReference(aud)) {
      throw new InvalidRequestError('aud must be a DID or a did#service_id reference')
    }
    const now = Date.now()
    const nowSeconds = Math.floor(now / 1000)
    let lifetime = MINUTE
    if (params.exp !== undefined) {
      lifetime = params.exp - nowSeconds
      if (lifetime <= 0) throw new InvalidRequestError('expiration is in past', 'BadExpiration')
      if (lifetime > HOUR) {
        throw new InvalidRequestError(
          'cannot request a token with an expiration more than an hour in the future',
          'BadExpiration',
        )
      }
      if (lxm === null && lifetime > MINUTE) {
        throw new InvalidRequestError(
          'cannot request a method-less token with an expiration more than a minute in the future',
          'BadExpiration',
        )
      }
    }
    if (lxm !== null && isProtectedMethod(lxm)) {
      throw new InvalidRequestError(
        `cannot request a service auth token for the following protected method: ${lxm}`,
      )
    }
    const takendown = auth.scope === SCOPE_TAKENDOWN
    if (takendown && lxm !== MIGRATION_LXM) {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    // An OAuth token's scope already decided chat (transition:chat.bsky or an rpc: scope for
    // it); no OAuth token is a full-access session. A taken-down session is opened with the
    // account password only (createSession).
    const scoped = carriesScope(auth)
    const fullAccess = (!scoped && auth.scope === SCOPE_ACCESS) || takendown
    const privileged = scoped || fullAccess || auth.scope === SCOPE_APP_PASS_PRIVILEGED
    const allowed = lxm === null || (needsFullAccessSession(lxm) ? fullAccess : true)
    if (!allowed || (lxm !== null && needsPrivilegedSession(lxm) && !privileged)) {
      throw new InvalidRequestError(
        `insufficient access to request a service auth token for the following method: ${lxm}`,
      )
    }
    const account = takendown
      ? await requireTakendownAccount(db, auth.did)
      : await requireCallerAccount(db, auth.did)
    const token = await createAccountServiceToken(config, account, {
      aud,
      lxm,
      expiresInSeconds: lifetime,
      now,
    })
    return { body: { token } }
  },
})

/** `did:...` or `did:...#service_id`. */
function isServiceReference(aud: string): boolean {
  const hash = aud.indexOf('#')
  if (hash === -1) return isValidDid(aud)
  const id = aud.slice(hash + 1)
  return isValidDid(aud.slice(0, hash)) && id.length > 0 && !/[#\s]/.test(id)
}
