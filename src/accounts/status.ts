/**
 * Account status changes (deactivateAccount, activateAccount): the account's Durable Object
 * first, which refuses writes while inactive and emits `#account` (and, on reactivation,
 * `#identity` and `#sync`), then the D1 row that sessions and reads consult. Both steps are
 * idempotent, so a request that fails between them is fixed by repeating it.
 */
import type { InactiveStatus } from '../account/types.ts'
import { accountStub, unwrapAccount } from '../bindings.ts'
import { type AccountRow, setAccountStatus } from '../db/accounts.ts'
import { getDb } from '../db/index.ts'
import { NotAuthenticatedError } from '../errors.ts'

/** A status moderation set, which the user cannot change. */
export class ModeratedAccountError extends NotAuthenticatedError {
  override name = 'ModeratedAccountError'
}

export type StatusChange =
  | { active: true }
  | { active: false; status: InactiveStatus; deleteAfter?: string | null }

export async function changeAccountStatus(
  env: Env,
  account: AccountRow,
  change: StatusChange,
  now = new Date().toISOString(),
): Promise<void> {
  await unwrapAccount(
    accountStub(env, account.did).setStatus(
      change.active ? { active: true } : { active: false, status: change.status },
    ),
  )
  const status = change.active ? 'active' : change.status
  // A repeated deactivation keeps the time of the first.
  const since = status === account.status ? (account.deactivatedAt ?? now) : now
  await setAccountStatus(getDb(env.DB), account.did, status, since, {
    deleteAfter: change.active ? null : (change.deleteAfter ?? null),
  })
}

/** The user cannot lift or change a status moderation set. */
export function assertNotModerated(account: AccountRow): void {
  if (account.status === 'takendown') {
    throw new ModeratedAccountError('Account has been taken down', 'AccountTakedown')
  }
  if (account.status === 'suspended') {
    throw new ModeratedAccountError('Account is suspended', 'AccountSuspended')
  }
}
