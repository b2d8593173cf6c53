/** The development mailbox's rows (`PDS_MAILER=dev`): what the local PDS "sent". */
import { and, desc, eq, lt } from 'drizzle-orm'
import type { Db } from './index.ts'
import { devMail } from './schema.ts'

export type DevMailRow = typeof devMail.$inferSelect
export type NewDevMailRow = typeof devMail.$inferInsert

export async function insertDevMail(db: Db, row: NewDevMailRow): Promise<number> {
  const inserted = await db.insert(devMail).values(row).returning({ id: devMail.id }).get()
  return inserted.id
}

/** Newest first; only mail to `to` when given (compared in lower case). */
export async function listDevMail(
  db: Db,
  opts: { to?: string; limit: number },
): Promise<DevMailRow[]> {
  const where = opts.to ? eq(devMail.toAddress, opts.to.trim().toLowerCase()) : undefined
  return db.select().from(devMail).where(where).orderBy(desc(devMail.id)).limit(opts.limit).all()
}

export async function getDevMail(db: Db, id: number): Promise<DevMailRow | null> {
  return (await db.select().from(devMail).where(eq(devMail.id, id)).get()) ?? null
}

/** Forgets mail sent before `cutoff` (ISO), so the local mailbox does not grow for good. */
export async function deleteDevMailBefore(db: Db, cutoff: string, to?: string): Promise<void> {
  const old = lt(devMail.sentAt, cutoff)
  await db.delete(devMail).where(to ? and(old, eq(devMail.toAddress, to)) : old)
}
