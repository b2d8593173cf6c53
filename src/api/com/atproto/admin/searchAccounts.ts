import { accountView } from '../../../../accounts/admin-view.ts'
import { searchAccounts as searchAccountRows } from '../../../../db/accounts.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.searchAccounts'

/** Accounts whose email contains `email` (all accounts without it), in DID order. */
export const searchAccounts = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, db }) {
    const page = await searchAccountRows(db, {
      query: params.email ?? null,
      emailOnly: true,
      limit: params.limit,
      cursor: params.cursor,
    })
    const accounts = await Promise.all(page.accounts.map((row) => accountView(db, row)))
    return { body: { accounts, ...(page.cursor ? { cursor: page.cursor } : {}) } }
  },
})
