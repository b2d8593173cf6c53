/** Refresh tokens and app passwords in D1. */
import { and, eq, lt, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { appPassword, refreshToken } from './schema.ts'

export type RefreshTokenRow = typeof refreshToken.$inferSelect
export type AppPasswordRow = typeof appPassword.$inferSelect

/** Stores a refresh token; one already there (given again during a grace) is kept. */
export async function insertRefreshToken(db: Db, row: RefreshTokenRow): Promise<void> {
  await db.insert(refreshToken).values(row).onConflictDoNothing()
}

/**
 * Marks a refresh token used, in one statement: it gets its next token's id (`newId`, or the
 * one an earlier use gave it) and its expiry is cut to `graceEnd`. Returns null when it is
 * unknown, revoked or past its (grace) expiry, so a replay after the grace fails even though
 * its signature is valid.
 */
export async function rotateRefreshToken(
  db: Db,
  id: string,
  newId: string,
  now: Date,
  graceEnd: Date,
): Promise<RefreshTokenRow | null> {
  const row = await db.get<{
    id: string
    did: string
    app_password_name: string | null
    expires_at: string
    next_id: string | null
  }>(sql`
    UPDATE refresh_token
    SET next_id = COALESCE(next_id, ${newId}),
        expires_at = MIN(expires_at, ${graceEnd.toISOString()})
    WHERE id = ${id} AND expires_at > ${now.toISOString()}
    RETURNING id, did, app_password_name, expires_at, next_id`)
  if (!row) return null
  return {
    id: row.id,
    did: row.did,
    appPasswordName: row.app_password_name,
    expiresAt: row.expires_at,
    nextId: row.next_id,
  }
}

/** Whether the token was still there (not used, revoked or logged out already). */
export async function deleteRefreshToken(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .delete(refreshToken)
    .where(eq(refreshToken.id, id))
    .returning({ id: refreshToken.id })
  return rows.length > 0
}

/** Forgets refresh tokens past their expiry (a refresh would refuse them anyway). */
export async function deleteExpiredRefreshTokens(db: Db, now: Date): Promise<void> {
  await db.delete(refreshToken).where(lt(refreshToken.expiresAt, now.toISOString()))
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
