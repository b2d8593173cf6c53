/**
 * The D1 record index (`record`, `repo_root`) as account management reads it. Only the
 * account object writes or deletes its rows (src/account/record-index.ts).
 */
import { eq, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { record } from './schema.ts'

/** How many records of the repo the index holds. */
export async function countIndexedRecords(db: Db, did: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(record)
    .where(eq(record.did, did))
    .get()
  return row?.n ?? 0
}
