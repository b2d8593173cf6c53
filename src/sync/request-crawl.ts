/**
 * Telling relays about this PDS: `com.atproto.sync.requestCrawl` with our hostname, sent to
 * each configured crawler. A relay that was told connects back to our `subscribeRepos`.
 */
import type { Config } from '../config.ts'
import type { FetchFn } from '../identity/http.ts'
import { RelayClient } from './relay-client.ts'

/** At most this often while events flow (the sequencer asks on the first event after that). */
export const CRAWL_REQUEST_INTERVAL_MS = 20 * 60_000
/** How often the Cron Trigger repeats the request, so that a relay that dropped us returns. */
export const CRAWL_REFRESH_INTERVAL_MS = 60 * 60_000

export type CrawlOutcome = { crawler: string; ok: boolean; error?: string }

/**
 * Asks every configured crawler to crawl us, through the relay doctor's client (the SSRF check,
 * a deadline, a bounded answer); never throws (failures are in the outcomes).
 */
export async function requestCrawl(
  config: Pick<Config, 'crawlers' | 'hostname' | 'devMode'>,
  fetchImpl?: FetchFn,
): Promise<CrawlOutcome[]> {
  return Promise.all(
    config.crawlers.map(async (crawler): Promise<CrawlOutcome> => {
      try {
        const client = new RelayClient(crawler, { devMode: config.devMode, fetch: fetchImpl })
        await client.requestCrawl(config.hostname)
        return { crawler, ok: true }
      } catch (err) {
        return { crawler, ok: false, error: err instanceof Error ? err.message : String(err) }
      }
    }),
  )
}

/** Logs the crawlers that did not accept the request. */
export function logCrawlFailures(outcomes: CrawlOutcome[]): void {
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      console.warn(`requestCrawl to ${outcome.crawler} failed: ${outcome.error ?? 'unknown error'}`)
    }
  }
}
