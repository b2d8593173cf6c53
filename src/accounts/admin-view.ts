/**
 * Accounts as the operator sees them (`com.atproto.admin.defs#accountView`): identity, email,
 * the invite code used to sign up and the codes made for the account.
 */
import type { AccountRow } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { getInviteCodesFor, type InviteCodeWithUses, listInviteCodesByCode } from '../db/invites.ts'
import { inviteCodeUsedBy } from '../db/moderation.ts'
import type {
  ComAtprotoAdminDefs,
  ComAtprotoServerDefs,
} from '../lexicon/generated/method-types.ts'

export function inviteCodeView(row: InviteCodeWithUses): ComAtprotoServerDefs.InviteCode {
  return {
    code: row.code,
    available: row.availableUses,
    disabled: row.disabled,
    forAccount: row.forAccount,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    uses: row.uses.map(({ usedBy, usedAt }) => ({ usedBy, usedAt })),
  }
}

export async function accountView(
  db: Db,
  account: AccountRow,
): Promise<ComAtprotoAdminDefs.AccountView> {
  const [invites, usedCode] = await Promise.all([
    getInviteCodesFor(db, account.did),
    inviteCodeUsedBy(db, account.did),
  ])
  const [invitedBy] = usedCode ? await listInviteCodesByCode(db, [usedCode]) : []
  return {
    did: account.did,
    handle: account.handle,
    ...(account.email ? { email: account.email } : {}),
    indexedAt: account.createdAt,
    ...(invitedBy ? { invitedBy: inviteCodeView(invitedBy) } : {}),
    invites: invites.map(inviteCodeView),
    invitesDisabled: account.invitesDisabled,
    ...(account.emailConfirmedAt ? { emailConfirmedAt: account.emailConfirmedAt } : {}),
    ...(account.deactivatedAt ? { deactivatedAt: account.deactivatedAt } : {}),
  }
}
