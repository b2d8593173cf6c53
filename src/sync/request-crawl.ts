/**
 * Telling relays about this PDS: `com.atproto.sync.requestCrawl` with our hostname, sent to
 * each configured crawler. A relay that was told connects back to our `subscribeRepos`.
 */
import type { Config } from '../config.ts'

/** At most this often while events flow (the sequencer asks on the first event after that). */
export const CRAWL_REQUEST_INTERVAL_MS = 20 * 60_000
/** How often the Cron Trigger repeats the request, so that a relay that dropped us returns. */
export const CRAWL_REFRESH_INTERVAL_MS = 60 * 60_000
const REQUEST_TIMEOUT_MS = 10_000

export type CrawlOutcome = { crawler: string; ok: boolean; status?: number; error?: string }

/** The base URL of a crawler entry: a hostname (https) or a full origin. */
export function relayOrigin(crawler: string): string {
  const base = /^https?:\/\//i.test(crawler) ? crawler : `https://${crawler}`
  return base.replace(/\/+$/, '')
}

/** The requestCrawl URL of a crawler entry. */
export function crawlerUrl(crawler: string): string {
  return `${relayOrigin(crawler)}/xrpc/com.atproto.sync.requestCrawl`
}

/** Asks every configured crawler to crawl us; never throws (failures are in the outcomes). */
export async function requestCrawl(
  config: Pick<Config, 'crawlers' | 'hostname'>,
  fetchImpl: typeof fetch = fetch,
): Promise<CrawlOutcome[]> {
  return Promise.all(
    config.crawlers.map(async (crawler): Promise<CrawlOutcome> => {
      try {
        const res = await fetchImpl(crawlerUrl(crawler), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ hostname: config.hostname }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        })
        await res.body?.cancel()
        return { crawler, ok: res.ok, status: res.status }
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
      console.warn(
        `requestCrawl to ${outcome.crawler} failed: ${outcome.error ?? `HTTP ${outcome.status}`}`,
      )
    }
  }
}
