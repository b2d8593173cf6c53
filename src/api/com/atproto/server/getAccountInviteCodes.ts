import { inviteCodeView } from '../../../../accounts/admin-view.ts'
import { getInviteCodesFor } from '../../../../db/invites.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * The invite codes made for the caller's account, with their uses. Disabled codes are left
 * out, and used-up ones too with `includeUsed=false`. Full-access sessions only, as on the
 * reference PDS.
 *
 * @NOTE `createAvailable` is accepted and ignored: this PDS does not earn accounts codes over
 * time; the operator hands them out with createInviteCodes.
 */
export const getAccountInviteCodes = defineMethod('com.atproto.server.getAccountInviteCodes', {
  auth: accessFull,
  permission: passwordSessionOnly,
  rateLimits: noRateLimits,
  async handler({ params, auth, db }) {
    const rows = await getInviteCodesFor(db, auth.did)
    const codes = rows
      .filter((row) => !row.disabled)
      .filter((row) => params.includeUsed || row.uses.length < row.availableUses)
      .map(inviteCodeView)
    return { body: { codes } }
  },
})
