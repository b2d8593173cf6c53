/**
 * D1 reads behind the sync methods that must not wake account objects: the hosted repos with
 * their heads as indexed (listRepos, getRepoStatus), and which record CIDs are current.
 */
import { and, asc, eq, gt, inArray, ne } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import type { AccountStatus } from '../db/schema.ts'
import { account, record, repoRoot } from '../db/schema.ts'

export interface RepoHead {
  did: string
  status: AccountStatus
  head: string
  rev: string
}

/** Repos in DID order after `cursor` (a DID); deleted accounts are left out. */
export async function listRepoHeads(
  db: Db,
  opts: { cursor?: string; limit: number },
): Promise<RepoHead[]> {
  return db
    .select({ did: account.did, status: account.status, head: repoRoot.cid, rev: repoRoot.rev })
    .from(account)
    .innerJoin(repoRoot, eq(repoRoot.did, account.did))
    .where(
      and(
        ne(account.status, 'deleted'),
        opts.cursor === undefined ? undefined : gt(account.did, opts.cursor),
      ),
    )
    .orderBy(asc(account.did))
    .limit(opts.limit)
}

/** The indexed head of one repo. */
export async function getIndexedHead(
  db: Db,
  did: string,
): Promise<{ cid: string; rev: string } | null> {
  const row = await db
    .select({ cid: repoRoot.cid, rev: repoRoot.rev })
    .from(repoRoot)
    .where(eq(repoRoot.did, did))
    .get()
  return row ?? null
}

/** D1 takes at most 100 bound parameters per statement. */
const CIDS_PER_QUERY = 90

/** Which of `cids` are the CID of a record the repo holds now. */
export async function currentRecordCids(db: Db, did: string, cids: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < cids.length; i += CIDS_PER_QUERY) {
    const chunk = cids.slice(i, i + CIDS_PER_QUERY)
    const rows = await db
      .select({ cid: record.cid })
      .from(record)
      .where(and(eq(record.did, did), inArray(record.cid, chunk)))
    for (const row of rows) found.add(row.cid)
  }
  return found
}
