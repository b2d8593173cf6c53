/**
 * The caller's own account row, for account-management methods whose session is valid: its
 * row can still be gone (deleted while an access token lives on), which is AccountNotFound.
 */
import { type AccountRow, getAccountByDid } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { RequestRefusedError } from '../errors.ts'

/** The caller's account row is gone. */
export class AccountNotFoundError extends RequestRefusedError {
  override name = 'AccountNotFoundError'
}

export async function requireCallerAccount(db: Db, did: string): Promise<AccountRow> {
  const account = await getAccountByDid(db, did)
  if (!account) throw new AccountNotFoundError('Account not found', 'AccountNotFound')
  return account
}
