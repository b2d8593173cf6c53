/**
 * The rate limits' numbers, and their counters in D1 (one upsert per counted call). Which
 * limits a method has, and on what they are keyed, is declared with the method
 * (`rateLimits:` in `defineMethod`); the dispatcher applies them (`src/xrpc/rate-limits.ts`).
 */
import { sql } from 'drizzle-orm'
import type { Db } from './db/index.ts'
import type { RateLimit, RateLimitStore } from './xrpc/rate-limits.ts'

export const LIMITS = {
  createSessionPerIp: { name: 'createSession-ip', windowSeconds: 300, max: 100 },
  /**
   * Wrong passwords for one account: tightly from one address (an IPv6 /64), loosely from
   * all, so that someone guessing from a few addresses cannot lock the owner out (ten
   * addresses at the tight rate are needed to reach the loose one).
   */
  createSessionFailuresPerAccountAddress: {
    name: 'createSession-fail-acct-ip',
    windowSeconds: 300,
    max: 10,
  },
  createSessionFailuresPerAccount: {
    name: 'createSession-fail-acct',
    windowSeconds: 300,
    max: 100,
  },
  /** Wrong admin passwords (HTTP Basic) per address. */
  adminAuthFailuresPerIp: { name: 'admin-auth-fail-ip', windowSeconds: 300, max: 10 },
  createAccountPerIp: { name: 'createAccount-ip', windowSeconds: 300, max: 50 },
  /** Password guesses through deleteAccount, like logins. */
  deleteAccountPerDid: { name: 'deleteAccount-did', windowSeconds: 300, max: 30 },
  requestAccountDeletePerDid: { name: 'requestAccountDelete-did', windowSeconds: 3600, max: 5 },
} satisfies Record<string, RateLimit>

/** Counters in the `rate_limit` table: one row per key, reset when a new window starts. */
export function d1RateLimitStore(db: Db): RateLimitStore {
  return {
    async add(key, windowStart, points) {
      const row = await db.get<{ count: number }>(sql`
        INSERT INTO rate_limit (key, window_start, count) VALUES (${key}, ${windowStart}, ${points})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN rate_limit.window_start = excluded.window_start
                       THEN rate_limit.count + excluded.count ELSE excluded.count END,
          window_start = excluded.window_start
        RETURNING count`)
      return row?.count ?? points
    },
    async read(key, windowStart) {
      const row = await db.get<{ count: number }>(sql`
        SELECT count FROM rate_limit WHERE key = ${key} AND window_start = ${windowStart}`)
      return row?.count ?? 0
    },
  }
}
