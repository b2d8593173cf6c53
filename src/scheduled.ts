/**
 * Periodic jobs, run by the Worker's Cron Trigger (wrangler.toml [triggers]). Each job is
 * independent: one failing does not stop the others, and each must be safe to run twice.
 */
import { blobCollectorJob } from './blobs/gc.ts'
import { crawlRefreshJob } from './sync/crawl-job.ts'

export interface ScheduledJob {
  name: string
  run(env: Env, now: Date): Promise<void>
}

/** Every periodic job; add new ones here. */
export const scheduledJobs: ScheduledJob[] = [blobCollectorJob, crawlRefreshJob]

export async function runScheduledJobs(env: Env, now: Date, jobs = scheduledJobs): Promise<void> {
  const results = await Promise.allSettled(jobs.map((job) => job.run(env, now)))
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      console.error(`scheduled job ${jobs[i]?.name} failed`, result.reason)
    }
  })
}
