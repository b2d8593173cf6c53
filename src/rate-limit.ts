/**
 * Fixed-window rate limits backed by D1 (one upsert per checked request), used on the
 * endpoints that attract abuse: login and sign-up.
 */
import { sql } from 'drizzle-orm'
import type { Config } from './config.ts'
import type { Db } from './db/index.ts'
import { RateLimitExceededError } from './xrpc/errors.ts'

export interface RateLimit {
  /** Names the limit in the counter key, e.g. `createSession-ip`. */
  name: string
  windowSeconds: number
  max: number
}

export const LIMITS = {
  createSessionPerIdentifier: { name: 'createSession-id', windowSeconds: 300, max: 30 },
  createSessionPerIp: { name: 'createSession-ip', windowSeconds: 300, max: 100 },
  createAccountPerIp: { name: 'createAccount-ip', windowSeconds: 300, max: 50 },
  /** Password guesses through deleteAccount, like logins. */
  deleteAccountPerDid: { name: 'deleteAccount-did', windowSeconds: 300, max: 30 },
  requestAccountDeletePerDid: { name: 'requestAccountDelete-did', windowSeconds: 3600, max: 5 },
} satisfies Record<string, RateLimit>

/** Counts one hit against `limit` for `subject`; throws RateLimitExceeded (429) past the max. */
export async function consumeRateLimit(
  db: Db,
  config: Config,
  limit: RateLimit,
  subject: string,
  nowMs = Date.now(),
): Promise<void> {
  if (!config.rateLimitsEnabled) return
  const windowMs = limit.windowSeconds * 1000
  const windowStart = Math.floor(nowMs / windowMs) * windowMs
  const key = `${limit.name}:${subject.toLowerCase()}`
  const row = await db.get<{ count: number }>(sql`
    INSERT INTO rate_limit (key, window_start, count) VALUES (${key}, ${windowStart}, 1)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit.window_start = excluded.window_start
                   THEN rate_limit.count + 1 ELSE 1 END,
      window_start = excluded.window_start
    RETURNING count`)
  if (row && row.count > limit.max) {
    throw new RateLimitExceededError((windowStart + windowMs - nowMs) / 1000)
  }
}

/** The client's IP as Cloudflare reports it; a constant locally so limits still apply. */
export function clientIp(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'local'
}

const LONGEST_WINDOW_MS = Math.max(...Object.values(LIMITS).map((l) => l.windowSeconds)) * 1000

/**
 * Forgets counters whose window ended: the next hit would start the count afresh anyway.
 * Judged by the longest window, so no counter still in its window is lost.
 */
export async function deleteStaleRateLimits(db: Db, now: Date): Promise<void> {
  await db.run(
    sql`DELETE FROM rate_limit WHERE window_start < ${now.getTime() - LONGEST_WINDOW_MS}`,
  )
}
