/** Signing keys reserved ahead of account creation (com.atproto.server.reserveSigningKey). */
import { eq, lt } from 'drizzle-orm'
import type { Db } from './index.ts'
import { reservedSigningKey } from './schema.ts'

export type ReservedKeyRow = typeof reservedSigningKey.$inferSelect

/**
 * Stores the reservation unless `row.id` already has one; returns the reservation that holds
 * (the existing one when two requests race), so a DID keeps one key.
 */
export async function insertReservedKey(db: Db, row: ReservedKeyRow): Promise<ReservedKeyRow> {
  const inserted = await db
    .insert(reservedSigningKey)
    .values(row)
    .onConflictDoNothing()
    .returning()
    .get()
  return inserted ?? (await getReservedKey(db, row.id)) ?? row
}

export async function getReservedKey(db: Db, id: string): Promise<ReservedKeyRow | null> {
  const row = await db.select().from(reservedSigningKey).where(eq(reservedSigningKey.id, id)).get()
  return row ?? null
}

export async function deleteReservedKey(db: Db, id: string): Promise<void> {
  await db.delete(reservedSigningKey).where(eq(reservedSigningKey.id, id))
}

export async function deleteReservedKeysCreatedBefore(db: Db, cutoff: string): Promise<void> {
  await db.delete(reservedSigningKey).where(lt(reservedSigningKey.createdAt, cutoff))
}
