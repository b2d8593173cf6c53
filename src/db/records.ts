/** The D1 record index (`record`, `repo_root`) as account management reads and clears it. */
import { eq, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { record, repoRoot } from './schema.ts'

/** How many records of the repo the index holds. */
export async function countIndexedRecords(db: Db, did: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(record)
    .where(eq(record.did, did))
    .get()
  return row?.n ?? 0
}

/** Drops the repo from the index (account deletion); idempotent. */
export async function deleteRepoIndexRows(db: Db, did: string): Promise<void> {
  await db.batch([
    db.delete(record).where(eq(record.did, did)),
    db.delete(repoRoot).where(eq(repoRoot.did, did)),
  ])
}
