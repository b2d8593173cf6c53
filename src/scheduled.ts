/**
 * Periodic jobs, run by the Worker's Cron Trigger (wrangler.toml [triggers]). The jobs run side
 * by side (`inOrder` chains those that must not): one failing does not stop the others, and
 * each must be safe to run twice.
 */
import { deleteExpiredReservedKeys } from './accounts/reserved-keys.ts'
import { deleteExpiredAccountTokens } from './accounts/tokens.ts'
import { repoSizesJob } from './admin/repo-sizes.ts'
import { deleteExpiredAdminSessions } from './admin/session.ts'
import { dailyStatsJob } from './admin/stats.ts'
import { blobCollectorJob } from './blobs/gc.ts'
import { type Db, getDb } from './db/index.ts'
import { deleteExpiredOAuthRows } from './db/oauth.ts'
import { deleteExpiredRefreshTokens } from './db/sessions.ts'
import { deleteExpiredJtis } from './db/used-jti.ts'
import { deleteStaleRateLimits } from './rate-limit.ts'
import { crawlRefreshJob } from './sync/crawl-job.ts'
import { relayDoctorJob } from './sync/relay-doctor.ts'

export interface ScheduledJob {
  name: string
  run(env: Env, now: Date): Promise<void>
}

/** A job deleting one D1 table's expired rows, with the cleanup function of its owner. */
function expiredRowsJob(table: string, cleanup: (db: Db, now: Date) => Promise<void>) {
  return { name: `expired-${table}`, run: (env: Env, now: Date) => cleanup(getDb(env.DB), now) }
}

/** Every D1 table whose rows expire, and the owning module's cleanup. */
export const expiredRowsJobs: ScheduledJob[] = [
  expiredRowsJob('refresh_token', deleteExpiredRefreshTokens),
  expiredRowsJob('account_token', deleteExpiredAccountTokens),
  expiredRowsJob('used_jti', deleteExpiredJtis),
  expiredRowsJob('rate_limit', deleteStaleRateLimits),
  expiredRowsJob('oauth', deleteExpiredOAuthRows),
  expiredRowsJob('admin_session', deleteExpiredAdminSessions),
  expiredRowsJob('reserved_signing_key', deleteExpiredReservedKeys),
]

/**
 * Jobs that run one after the other, in order, inside one scheduled job; one failing does not
 * stop the next.
 */
export function inOrder(
  name: string,
  jobs: ScheduledJob[],
): ScheduledJob & { steps: readonly ScheduledJob[] } {
  return {
    name,
    steps: jobs,
    async run(env, now) {
      const failures: unknown[] = []
      for (const job of jobs) {
        try {
          await job.run(env, now)
        } catch (err) {
          failures.push(err)
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `${name}: a step failed`)
    },
  }
}

/**
 * The relay doctor, then the hourly crawl refresh. Side by side, the refresh's requestCrawl
 * could reach a relay just before the doctor asked it about this host: the doctor then saw the
 * host as known and the relay in the middle of a crawl, and acted on that.
 */
export const relayJobs = inOrder('relays', [relayDoctorJob, crawlRefreshJob])

/**
 * Every periodic job; add new ones here. Temporary blobs and queued R2 deletions are the
 * blob collector's; events past retention are the sequencer's own alarm.
 */
export const scheduledJobs: ScheduledJob[] = [
  blobCollectorJob,
  dailyStatsJob,
  relayJobs,
  repoSizesJob,
  ...expiredRowsJobs,
]

export async function runScheduledJobs(env: Env, now: Date, jobs = scheduledJobs): Promise<void> {
  const results = await Promise.allSettled(jobs.map((job) => job.run(env, now)))
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      console.error(`scheduled job ${jobs[i]?.name} failed`, result.reason)
    }
  })
}
