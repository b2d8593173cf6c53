/** One-off tokens sent to the user (account deletion, and later email and PLC confirmations). */
import { and, eq, lt } from 'drizzle-orm'
import type { Db } from './index.ts'
import { accountToken } from './schema.ts'

/** What a token allows; one live token per account and purpose. */
export type AccountTokenPurpose =
  | 'delete_account'
  | 'confirm_email'
  | 'update_email'
  | 'reset_password'
  | 'plc_operation'

export type AccountTokenRow = typeof accountToken.$inferSelect

/** Stores the token, replacing an earlier one of the same purpose (only the newest works). */
export async function putAccountToken(
  db: Db,
  row: AccountTokenRow & { purpose: AccountTokenPurpose },
): Promise<void> {
  await db
    .insert(accountToken)
    .values(row)
    .onConflictDoUpdate({
      target: [accountToken.did, accountToken.purpose],
      set: { token: row.token, requestedAt: row.requestedAt },
    })
}

export async function getAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
): Promise<AccountTokenRow | null> {
  const row = await db
    .select()
    .from(accountToken)
    .where(and(eq(accountToken.did, did), eq(accountToken.purpose, purpose)))
    .get()
  return row ?? null
}

export async function listAccountTokens(db: Db, did: string): Promise<AccountTokenRow[]> {
  return db.select().from(accountToken).where(eq(accountToken.did, did)).all()
}

export async function deleteAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
): Promise<void> {
  await db
    .delete(accountToken)
    .where(and(eq(accountToken.did, did), eq(accountToken.purpose, purpose)))
}

/** Deletes the token if it is still `token`; false when it was already used or replaced. */
export async function takeAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  token: string,
): Promise<boolean> {
  const row = await db
    .delete(accountToken)
    .where(
      and(
        eq(accountToken.did, did),
        eq(accountToken.purpose, purpose),
        eq(accountToken.token, token),
      ),
    )
    .returning({ did: accountToken.did })
    .get()
  return row !== undefined
}

/** Forgets tokens requested before `cutoff` (an ISO time): expired, no longer usable. */
export async function deleteAccountTokensRequestedBefore(db: Db, cutoff: string): Promise<void> {
  await db.delete(accountToken).where(lt(accountToken.requestedAt, cutoff))
}
