/** Account rows in D1: lookups by DID, handle or email, and status changes. */
import { and, asc, eq, gt, inArray, like, ne, or } from 'drizzle-orm'
import type { Db } from './index.ts'
import {
  type AccountStatus,
  account,
  accountPref,
  accountToken,
  appPassword,
  refreshToken,
} from './schema.ts'

export type AccountRow = typeof account.$inferSelect
export type NewAccountRow = typeof account.$inferInsert

export async function getAccountByDid(db: Db, did: string): Promise<AccountRow | null> {
  return (await db.select().from(account).where(eq(account.did, did)).get()) ?? null
}

export async function getAccountByHandle(db: Db, handle: string): Promise<AccountRow | null> {
  const rows = db.select().from(account).where(eq(account.handle, handle.toLowerCase()))
  return (await rows.get()) ?? null
}

export async function getAccountByEmail(db: Db, email: string): Promise<AccountRow | null> {
  const rows = db.select().from(account).where(eq(account.email, email.toLowerCase()))
  return (await rows.get()) ?? null
}

/** A login identifier: a DID, an email address, or a handle. */
export async function getAccountByIdentifier(
  db: Db,
  identifier: string,
): Promise<AccountRow | null> {
  const id = identifier.trim()
  if (id.startsWith('did:')) return getAccountByDid(db, id)
  if (id.includes('@')) return getAccountByEmail(db, id)
  return getAccountByHandle(db, id)
}

export async function insertAccount(db: Db, row: NewAccountRow): Promise<void> {
  await db.insert(account).values(row)
}

export async function updateAccountHandle(db: Db, did: string, handle: string): Promise<void> {
  await db.update(account).set({ handle: handle.toLowerCase() }).where(eq(account.did, did))
}

export async function updateAccountPassword(db: Db, did: string, hash: string): Promise<void> {
  await db.update(account).set({ passwordHash: hash }).where(eq(account.did, did))
}

/**
 * Replaces the stored hash of the same password (a rehash), unless the password changed
 * meanwhile: false then.
 */
export async function replacePasswordHash(
  db: Db,
  did: string,
  from: string,
  to: string,
): Promise<boolean> {
  const rows = await db
    .update(account)
    .set({ passwordHash: to })
    .where(and(eq(account.did, did), eq(account.passwordHash, from)))
    .returning({ did: account.did })
  return rows.length > 0
}

/**
 * A new password ends every session, app-password sessions included (their refresh tokens go),
 * in one batch with the change.
 */
export async function resetAccountPassword(db: Db, did: string, hash: string): Promise<void> {
  await db.batch([
    db.update(account).set({ passwordHash: hash }).where(eq(account.did, did)),
    db.delete(refreshToken).where(eq(refreshToken.did, did)),
  ])
}

/**
 * A new address is unconfirmed, and sign-in codes stop until it is confirmed (they would go
 * to an address nobody has proven). Throws D1's unique-constraint error when it is taken.
 */
export async function setAccountEmail(db: Db, did: string, email: string): Promise<void> {
  await db
    .update(account)
    .set({ email: email.toLowerCase(), emailConfirmedAt: null, emailAuthFactor: false })
    .where(eq(account.did, did))
}

export async function setEmailConfirmed(db: Db, did: string, at: string): Promise<void> {
  await db.update(account).set({ emailConfirmedAt: at }).where(eq(account.did, did))
}

export async function setEmailAuthFactor(db: Db, did: string, on: boolean): Promise<void> {
  await db.update(account).set({ emailAuthFactor: on }).where(eq(account.did, did))
}

/**
 * Sets the account's status. `deactivatedAt` and `deleteAfter` describe a deactivation, so any
 * other status clears them.
 */
export async function setAccountStatus(
  db: Db,
  did: string,
  status: AccountStatus,
  now: string,
  opts: { deleteAfter?: string | null } = {},
): Promise<void> {
  const deactivated = status === 'deactivated'
  await db
    .update(account)
    .set({
      status,
      deactivatedAt: deactivated ? now : null,
      deleteAfter: deactivated ? (opts.deleteAfter ?? null) : null,
    })
    .where(eq(account.did, did))
}

/** Removes the account and everything that hangs off it in D1 (not its repo index). */
export async function deleteAccountRows(db: Db, did: string): Promise<void> {
  await db.batch([
    db.delete(refreshToken).where(eq(refreshToken.did, did)),
    db.delete(appPassword).where(eq(appPassword.did, did)),
    db.delete(accountToken).where(eq(accountToken.did, did)),
    db.delete(accountPref).where(eq(accountPref.did, did)),
    db.delete(account).where(eq(account.did, did)),
  ])
}

export function isActive(row: Pick<AccountRow, 'status'>): boolean {
  return row.status === 'active'
}

/**
 * One page of accounts (deleted ones left out) in DID order, those whose DID, handle or email
 * contains `query` (any when null); `email` alone matches emails only (searchAccounts).
 */
export async function searchAccounts(
  db: Db,
  opts: { query: string | null; emailOnly?: boolean; limit: number; cursor?: string },
): Promise<{ accounts: AccountRow[]; cursor?: string }> {
  const pattern = opts.query === null ? null : `%${escapeLike(opts.query.toLowerCase())}%`
  const matches =
    pattern === null
      ? undefined
      : opts.emailOnly
        ? like(account.email, pattern)
        : or(
            like(account.did, pattern),
            like(account.handle, pattern),
            like(account.email, pattern),
          )
  const rows = await db
    .select()
    .from(account)
    .where(
      and(
        ne(account.status, 'deleted'),
        matches,
        opts.cursor === undefined ? undefined : gt(account.did, opts.cursor),
      ),
    )
    .orderBy(asc(account.did))
    .limit(opts.limit)
    .all()
  const last = rows.at(-1)
  return { accounts: rows, cursor: rows.length === opts.limit && last ? last.did : undefined }
}

/** The rows of these DIDs (at most 100), in no particular order. */
export async function getAccountsByDids(db: Db, dids: string[]): Promise<AccountRow[]> {
  if (dids.length === 0) return []
  return db.select().from(account).where(inArray(account.did, dids)).all()
}

export async function updateAccountEmail(db: Db, did: string, email: string): Promise<void> {
  await db
    .update(account)
    .set({ email: email.toLowerCase(), emailConfirmedAt: null })
    .where(eq(account.did, did))
}

/** A search's own `%` and `_` are dropped: drizzle's `like` sets no ESCAPE character. */
function escapeLike(text: string): string {
  return text.replace(/[%_]/g, '')
}
