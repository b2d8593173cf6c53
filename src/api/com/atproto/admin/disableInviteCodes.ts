import { disableInviteCodes as disableCodes } from '../../../../db/invites.ts'
import { disableInviteCodesOf } from '../../../../db/moderation.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.disableInviteCodes'
/** D1 binds at most 100 parameters. */
const MAX_ITEMS = 100

/**
 * Disables the named codes, and every code made for the named accounts. As on the reference
 * PDS, the operator's own codes cannot be disabled by account (`admin`).
 */
export const disableInviteCodes = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, db }) {
    const codes = input.codes ?? []
    const accounts = input.accounts ?? []
    if (accounts.includes('admin')) {
      throw new InvalidRequestError('cannot disable admin invite codes')
    }
    if (codes.length > MAX_ITEMS || accounts.length > MAX_ITEMS) {
      throw new InvalidRequestError(`At most ${MAX_ITEMS} codes and ${MAX_ITEMS} accounts`)
    }
    await disableCodes(db, codes)
    await disableInviteCodesOf(db, accounts)
    return undefined
  },
})
