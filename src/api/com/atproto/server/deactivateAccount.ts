import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { assertNotModerated, changeAccountStatus } from '../../../../accounts/status.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Deactivates the account: writes are refused and the repo is no longer served until
 * activateAccount; sessions keep working (getSession says `active: false`). `deleteAfter` is
 * recorded as the user's wish.
 *
 * @TODO nothing deletes accounts past `deleteAfter` yet.
 */
export const deactivateAccount = defineMethod('com.atproto.server.deactivateAccount', {
  auth: accessFull,
  permission: [accountPermission('status', 'manage')],
  rateLimits: noRateLimits,
  async handler({ input, auth, env, db }) {
    const account = await requireCallerAccount(db, auth.did)
    assertNotModerated(account)
    await changeAccountStatus(env, account, {
      active: false,
      status: 'deactivated',
      deleteAfter: input?.deleteAfter ? normalizeDatetime(input.deleteAfter) : null,
    })
    return undefined
  },
})

function normalizeDatetime(value: string): string {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new InvalidRequestError('deleteAfter is not a usable datetime')
  return new Date(ms).toISOString()
}
