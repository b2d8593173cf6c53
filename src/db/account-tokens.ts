/** One-off tokens mailed to the user: email confirmation and change, password reset, deletion... */
import { and, eq, lt, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { accountToken } from './schema.ts'

/** What a token allows; one live token per account and purpose. */
export type AccountTokenPurpose =
  | 'delete_account'
  | 'confirm_email'
  | 'update_email'
  | 'reset_password'
  | 'plc_operation'
  | 'sign_in'

export type AccountTokenRow = typeof accountToken.$inferSelect

/** Stores the token, replacing an earlier one of the same purpose (only the newest works). */
export async function putAccountToken(
  db: Db,
  row: typeof accountToken.$inferInsert & { purpose: AccountTokenPurpose },
): Promise<void> {
  await db
    .insert(accountToken)
    .values(row)
    .onConflictDoUpdate({
      target: [accountToken.did, accountToken.purpose],
      set: { token: row.token, requestedAt: row.requestedAt, attempts: 0 },
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

export async function deleteAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
): Promise<void> {
  await db
    .delete(accountToken)
    .where(and(eq(accountToken.did, did), eq(accountToken.purpose, purpose)))
}

/** The token of `purpose` whose value is `token` (resetPassword names no account). */
export async function findAccountTokenByValue(
  db: Db,
  purpose: AccountTokenPurpose,
  token: string,
): Promise<AccountTokenRow | null> {
  const row = await db
    .select()
    .from(accountToken)
    .where(and(eq(accountToken.purpose, purpose), eq(accountToken.token, token)))
    .get()
  return row ?? null
}

/** Counts a wrong try; the new count, or null when no token is left. */
export async function addAccountTokenAttempt(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
): Promise<number | null> {
  const row = await db
    .update(accountToken)
    .set({ attempts: sql`${accountToken.attempts} + 1` })
    .where(and(eq(accountToken.did, did), eq(accountToken.purpose, purpose)))
    .returning({ attempts: accountToken.attempts })
    .get()
  return row?.attempts ?? null
}

/** Deletes the token only if it still has this value: true for the one caller that used it. */
export async function takeAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  token: string,
): Promise<boolean> {
  const rows = await db
    .delete(accountToken)
    .where(
      and(
        eq(accountToken.did, did),
        eq(accountToken.purpose, purpose),
        eq(accountToken.token, token),
      ),
    )
    .returning({ did: accountToken.did })
  return rows.length > 0
}

/** Forgets tokens requested before `cutoff` (an ISO time): expired, no longer usable. */
export async function deleteAccountTokensRequestedBefore(db: Db, cutoff: string): Promise<void> {
  await db.delete(accountToken).where(lt(accountToken.requestedAt, cutoff))
}
