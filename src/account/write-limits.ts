/**
 * The per-account write limits, counted by the account's own object: it is the account's single
 * writer, so its SQLite holds the counters and a write needs no round trip to D1 to be counted.
 * Fixed windows, the dispatcher's (src/xrpc/rate-limits.ts): both take them from `fixedWindow`.
 */
import { fixedWindow } from '../limits.ts'
import type { SqlLike } from '../storage/sql.ts'
import { RepoWriteError } from './errors.ts'
import type { WriteLimit } from './types.ts'

/**
 * Adds each limit's cost to its counter (a new window starts it afresh), then refuses with the
 * first limit in order past its max. All are counted before any refusal, as the dispatcher does.
 */
export function countWriteLimits(sql: SqlLike, limits: readonly WriteLimit[], nowMs: number): void {
  let refusal: RepoWriteError | null = null
  for (const { key, windowSeconds, max, cost } of limits) {
    const window = fixedWindow(nowMs, windowSeconds)
    const count =
      sql
        .exec<{ count: number }>(
          `INSERT INTO write_limit (key, window_start, count) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN window_start = excluded.window_start
                     THEN count + excluded.count ELSE excluded.count END,
             window_start = excluded.window_start
           RETURNING count`,
          key,
          window.start,
          cost,
        )
        .toArray()[0]?.count ?? cost
    if (count > max && !refusal) {
      refusal = new RepoWriteError(
        'RateLimitExceeded',
        'Rate Limit Exceeded',
        window.retryAfterSeconds,
      )
    }
  }
  if (refusal) throw refusal
}
