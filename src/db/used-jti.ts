/** Service-auth token ids already used: each token works once (replay guard). */
import { lt } from 'drizzle-orm'
import type { Db } from './index.ts'
import { usedJti } from './schema.ts'

/**
 * Records `id` (`<iss>:<jti>`) until `expiresAt` (seconds since the epoch); false if it was
 * already there, i.e. the token is being replayed.
 */
export async function claimJti(db: Db, id: string, expiresAt: number): Promise<boolean> {
  const row = await db
    .insert(usedJti)
    .values({ id, expiresAt })
    .onConflictDoNothing()
    .returning({ id: usedJti.id })
    .get()
  return row !== undefined
}

/** Forgets ids whose tokens have expired (they can no longer be replayed anyway). */
export async function deleteExpiredJtis(db: Db, now: Date): Promise<void> {
  await db.delete(usedJti).where(lt(usedJti.expiresAt, Math.floor(now.getTime() / 1000)))
}
