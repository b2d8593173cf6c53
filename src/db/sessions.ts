/** Refresh tokens and app passwords in D1. */
import { and, eq } from 'drizzle-orm'
import type { Db } from './index.ts'
import { appPassword, refreshToken } from './schema.ts'

export type RefreshTokenRow = typeof refreshToken.$inferSelect
export type AppPasswordRow = typeof appPassword.$inferSelect

export async function insertRefreshToken(db: Db, row: RefreshTokenRow): Promise<void> {
  await db.insert(refreshToken).values(row)
}

/**
 * Takes a refresh token out of the table: single use. Returns null when it was already used
 * or revoked, so a replayed refresh token fails even though its signature is valid.
 */
export async function consumeRefreshToken(db: Db, id: string): Promise<RefreshTokenRow | null> {
  const rows = await db.delete(refreshToken).where(eq(refreshToken.id, id)).returning()
  return rows[0] ?? null
}

/** Whether the token was still there (not used, revoked or logged out already). */
export async function deleteRefreshToken(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .delete(refreshToken)
    .where(eq(refreshToken.id, id))
    .returning({ id: refreshToken.id })
  return rows.length > 0
}

export async function insertAppPassword(db: Db, row: AppPasswordRow): Promise<void> {
  await db.insert(appPassword).values(row)
}

export async function listAppPasswords(db: Db, did: string): Promise<AppPasswordRow[]> {
  return db.select().from(appPassword).where(eq(appPassword.did, did)).all()
}

export async function getAppPassword(
  db: Db,
  did: string,
  name: string,
): Promise<AppPasswordRow | null> {
  const row = await db
    .select()
    .from(appPassword)
    .where(and(eq(appPassword.did, did), eq(appPassword.name, name)))
    .get()
  return row ?? null
}

/** Revokes an app password and every session opened with it, in one batch. */
export async function revokeAppPassword(db: Db, did: string, name: string): Promise<void> {
  await db.batch([
    db.delete(appPassword).where(and(eq(appPassword.did, did), eq(appPassword.name, name))),
    db
      .delete(refreshToken)
      .where(and(eq(refreshToken.did, did), eq(refreshToken.appPasswordName, name))),
  ])
}
