/**
 * The Cron Trigger's part in relay discovery: besides the sequencer's requests while events
 * flow, every CRAWL_REFRESH_INTERVAL_MS the relays are asked again, so that one which dropped
 * this PDS (after a quiet spell, a restart of its own) comes back without waiting for a write.
 */
import { getConfig } from '../config.ts'
import type { ScheduledJob } from '../scheduled.ts'
import { CRAWL_REFRESH_INTERVAL_MS, logCrawlFailures, requestCrawl } from './request-crawl.ts'

/** The Cron Trigger's period (wrangler.toml: every 10 minutes). */
const CRON_PERIOD_MS = 10 * 60_000

/** True for one cron run per refresh interval (the run at the start of each interval). */
export function isCrawlRefreshRun(now: Date): boolean {
  const slot = Math.floor(now.getTime() / CRON_PERIOD_MS)
  return slot % Math.max(1, Math.round(CRAWL_REFRESH_INTERVAL_MS / CRON_PERIOD_MS)) === 0
}

export const crawlRefreshJob: ScheduledJob = {
  name: 'requestCrawl',
  async run(env, now) {
    const config = getConfig(env)
    if (config.crawlers.length === 0 || !isCrawlRefreshRun(now)) return
    logCrawlFailures(await requestCrawl(config))
  },
}
