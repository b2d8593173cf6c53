/**
 * Repo block storage for the admin overview. Blocks live in each account object's SQLite, so
 * summing them on request would ask every object; instead the Cron Trigger measures the repos
 * whose head moved since they were last measured (at most MEASURED_PER_RUN a run) into D1's
 * `repo_size`, and the overview sums that table.
 */
import { eq, sql } from 'drizzle-orm'
import { accountStub } from '../bindings.ts'
import { type Db, getDb } from '../db/index.ts'
import { repoSize } from '../db/schema.ts'
import type { ScheduledJob } from '../scheduled.ts'

/** Repos measured per cron run (a new deployment's backlog is worked off over a few runs). */
export const MEASURED_PER_RUN = 50
/** Objects asked at once. */
const CONCURRENCY = 10

export interface RepoBlockTotals {
  blocks: number
  bytes: number
  /** Repos measured, and repos there are (the difference is still to be measured). */
  measured: number
  repos: number
}

export async function repoBlockTotals(db: Db): Promise<RepoBlockTotals> {
  const row = await db.get<{
    blocks: number | null
    bytes: number | null
    measured: number
    repos: number
  }>(
    sql`SELECT sum(s.blocks) AS blocks, sum(s.block_bytes) AS bytes, count(s.did) AS measured,
      count(*) AS repos FROM repo_root r LEFT JOIN repo_size s ON s.did = r.did`,
  )
  return {
    blocks: row?.blocks ?? 0,
    bytes: row?.bytes ?? 0,
    measured: row?.measured ?? 0,
    repos: row?.repos ?? 0,
  }
}

/** Measures the repos changed since their last measurement; drops rows of deleted repos. */
export async function measureRepoSizes(env: Env): Promise<number> {
  const db = getDb(env.DB)
  // Taken first: a commit indexed while the run goes on is measured again next time.
  const measuredAt = new Date().toISOString()
  await db.run(sql`DELETE FROM repo_size WHERE did NOT IN (SELECT did FROM repo_root)`)
  const stale = await db.all<{ did: string }>(
    sql`SELECT r.did AS did FROM repo_root r LEFT JOIN repo_size s ON s.did = r.did
      WHERE s.did IS NULL OR r.indexed_at >= s.measured_at
      ORDER BY s.measured_at IS NOT NULL, s.measured_at LIMIT ${MEASURED_PER_RUN}`,
  )
  const sizes: { did: string; size: { blocks: number; bytes: number } | null }[] = []
  for (let i = 0; i < stale.length; i += CONCURRENCY) {
    const batch = stale.slice(i, i + CONCURRENCY).map(async ({ did }) => {
      try {
        sizes.push({ did, size: await accountStub(env, did).getStoredBlocks() })
      } catch (err) {
        // One object failing leaves its row stale until the next run, not the others.
        console.warn(`repo sizes: measuring ${did} failed`, err)
      }
    })
    await Promise.all(batch)
  }
  // One D1 batch for the run's rows.
  const writes = sizes.map(({ did, size }) => {
    if (!size) return db.delete(repoSize).where(eq(repoSize.did, did))
    const row = { did, blocks: size.blocks, blockBytes: size.bytes, measuredAt }
    return db
      .insert(repoSize)
      .values(row)
      .onConflictDoUpdate({ target: repoSize.did, set: { ...row, did: undefined } })
  })
  const [first, ...rest] = writes
  if (first) await db.batch([first, ...rest])
  return sizes.filter((s) => s.size !== null).length
}

export const repoSizesJob: ScheduledJob = {
  name: 'repo-sizes',
  run: (env) => measureRepoSizes(env).then(() => undefined),
}
