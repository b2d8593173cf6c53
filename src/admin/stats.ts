/**
 * The numbers of the admin page's overview: accounts by status, storage, the firehose window,
 * and a daily snapshot (`daily_stat`) from which the charts draw writes per day (differences
 * of the firehose's last seq) and storage growth.
 */
import { desc, sql } from 'drizzle-orm'
import { sequencerStub } from '../bindings.ts'
import { type Db, getDb } from '../db/index.ts'
import { dailyStat } from '../db/schema.ts'
import type { ScheduledJob } from '../scheduled.ts'
import { type RepoBlockTotals, repoBlockTotals } from './repo-sizes.ts'

export interface StorageTotals {
  records: number
  recordBytes: number
  blobs: number
  blobBytes: number
  repoBlocks: RepoBlockTotals
}

export async function accountsByStatus(db: Db): Promise<{ status: string; count: number }[]> {
  return db.all<{ status: string; count: number }>(
    sql`SELECT status, count(*) AS count FROM account GROUP BY status ORDER BY status`,
  )
}

export async function storageTotals(db: Db): Promise<StorageTotals> {
  const [records, blobs, repoBlocks] = await Promise.all([
    db.get<{ n: number; bytes: number | null }>(
      sql`SELECT count(*) AS n, sum(length(value)) AS bytes FROM record`,
    ),
    db.get<{ n: number | null; bytes: number | null }>(
      sql`SELECT sum(blob_count) AS n, sum(blob_bytes) AS bytes FROM blob_usage`,
    ),
    repoBlockTotals(db),
  ])
  return {
    records: records?.n ?? 0,
    recordBytes: records?.bytes ?? 0,
    blobs: blobs?.n ?? 0,
    blobBytes: blobs?.bytes ?? 0,
    repoBlocks,
  }
}

export function firehoseWindow(env: Env): Promise<{ oldestSeq: number | null; latestSeq: number }> {
  return sequencerStub(env).windowInfo()
}

/** Writes (or refreshes) today's snapshot row. */
export async function snapshotToday(env: Env, now = new Date()): Promise<void> {
  const db = getDb(env.DB)
  const [window, totals, accounts] = await Promise.all([
    firehoseWindow(env),
    storageTotals(db),
    db.get<{ n: number }>(sql`SELECT count(*) AS n FROM account WHERE status != 'deleted'`),
  ])
  const row = {
    day: now.toISOString().slice(0, 10),
    lastSeq: window.latestSeq,
    accounts: accounts?.n ?? 0,
    records: totals.records,
    recordBytes: totals.recordBytes,
    blobBytes: totals.blobBytes,
    blockBytes: totals.repoBlocks.bytes,
  }
  await db
    .insert(dailyStat)
    .values(row)
    .onConflictDoUpdate({ target: dailyStat.day, set: { ...row, day: undefined } })
}

export type DailyStat = typeof dailyStat.$inferSelect

/** The last `days` snapshots, oldest first. */
export async function recentDays(db: Db, days = 30): Promise<DailyStat[]> {
  const rows = await db
    .select()
    .from(dailyStat)
    .orderBy(desc(dailyStat.day))
    .limit(days + 1)
    .all()
  return rows.reverse()
}

/** Writes per day: the growth of the firehose's seq from one snapshot to the next. */
export function writesPerDay(rows: DailyStat[]): { label: string; value: number }[] {
  return rows.slice(1).map((row, i) => ({
    label: row.day,
    value: Math.max(0, row.lastSeq - rows[i]!.lastSeq),
  }))
}

export const dailyStatsJob: ScheduledJob = {
  name: 'daily-stats',
  run: (env, now) => snapshotToday(env, now),
}
