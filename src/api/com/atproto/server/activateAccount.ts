import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { assertNotModerated, changeAccountStatus } from '../../../../accounts/status.ts'
import { checkDidForThisPds } from '../../../../identity/did-check.ts'
import { DidResolutionError } from '../../../../identity/index.ts'
import { InvalidRequestError, UpstreamFailureError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Activates a deactivated account (the end of a migration, or a change of mind). The DID
 * document must already name this PDS and the account's signing key: a migrated account does
 * not go live here while its identity still points at the old host.
 */
export const activateAccount = defineMethod('com.atproto.server.activateAccount', {
  auth: accessFull,
  permission: [accountPermission('status', 'manage')],
  rateLimits: noRateLimits,
  async handler({ auth, env, config, db }) {
    const account = await requireCallerAccount(db, auth.did)
    assertNotModerated(account)
    let check: Awaited<ReturnType<typeof checkDidForThisPds>>
    try {
      check = await checkDidForThisPds(config, account.did, account.signingKeyDid)
    } catch (err) {
      if (err instanceof DidResolutionError) {
        throw new UpstreamFailureError(`Could not resolve the account's DID: ${err.message}`)
      }
      throw err
    }
    if (!check.valid) throw new InvalidRequestError(check.problem)
    await changeAccountStatus(env, account, { active: true })
    return undefined
  },
})
