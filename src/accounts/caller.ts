/**
 * The caller's own account row, for methods whose session is valid: its row can still be gone
 * (deleted while an access token lives on), which is AccountNotFound, or taken down since the
 * token was issued, which is AccountTakedown.
 */
import { type AccountRow, getAccountByDid } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { NotAuthenticatedError, RequestRefusedError } from '../errors.ts'

/** The caller's account row is gone. */
export class AccountNotFoundError extends RequestRefusedError {
  override name = 'AccountNotFoundError'
}

export async function requireCallerAccount(db: Db, did: string): Promise<AccountRow> {
  const account = await getAccountByDid(db, did)
  if (!account || account.status === 'deleted') {
    throw new AccountNotFoundError('Account not found', 'AccountNotFound')
  }
  // Access tokens are stateless: one issued before a takedown ends here.
  if (account.status === 'takendown') {
    throw new NotAuthenticatedError('Account has been taken down', 'AccountTakedown')
  }
  return account
}

/** The caller's row while it is taken down (its `allowTakendown` session); else AccountNotFound. */
export async function requireTakendownAccount(db: Db, did: string): Promise<AccountRow> {
  const account = await getAccountByDid(db, did)
  if (account?.status !== 'takendown') {
    throw new AccountNotFoundError('Account not found', 'AccountNotFound')
  }
  return account
}
