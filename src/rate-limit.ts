/**
 * The rate limits' numbers, and their counters in D1 (one batch per call). Which
 * limits a method has, and on what they are keyed, is declared with the method
 * (`rateLimits:` in `defineMethod`); the dispatcher applies them (`src/xrpc/rate-limits.ts`).
 */
import { and, eq, sql } from 'drizzle-orm'
import {
  type AccountLimits,
  type Config,
  MAX_RATE_LIMIT_WINDOW_SECONDS,
  RATE_LIMIT_DEFAULTS,
  type RateLimitName,
} from './config.ts'
import type { Db } from './db/index.ts'
import { rateLimit } from './db/schema.ts'
import {
  addressPrefix,
  type CounterUpdate,
  clientIp,
  type RateLimit,
  type RateLimitedCall,
  type RateLimitRule,
  type RateLimitStore,
} from './xrpc/rate-limits.ts'

/**
 * The abuse limits, each read from the config (`PDS_RATE_LIMITS`, defaults in
 * `RATE_LIMIT_DEFAULTS`) when a call is checked.
 */
export const LIMITS = Object.fromEntries(
  Object.keys(RATE_LIMIT_DEFAULTS).map((key) => [
    key,
    ({ config }: { config: Config }) => config.rateLimits[key as RateLimitName],
  ]),
) as Record<RateLimitName, (call: { config: Config }) => RateLimit>

/**
 * What every method that mails a code to the caller's account declares. The address is keyed
 * by a function so that the count comes after auth: only signed-in calls that mail count.
 */
export const MAIL_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: LIMITS.mailPerIp, key: ({ request }) => addressPrefix(clientIp(request)) },
  { limit: LIMITS.mailPerAccount, key: 'account' },
]

/** What every method that takes a mailed code from a signed-in caller declares. */
export const TOKEN_CHECK_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: LIMITS.tokenChecksPerIp, key: 'ip' },
  { limit: LIMITS.tokenChecksPerAccount, key: 'account' },
]

const HOUR = 3600
const DAY = 24 * HOUR

/** A per-account limit whose max the operator sets (`config.accountLimits`). */
function accountLimit(
  name: string,
  windowSeconds: number,
  max: keyof AccountLimits,
): (call: { config: Config }) => RateLimit {
  return ({ config }) => ({ name, windowSeconds, max: config.accountLimits[max] })
}

/** Repo write points a write operation takes, as the reference PDS counts them. */
export const WRITE_POINTS = { create: 3, update: 2, delete: 1 } as const

/**
 * Repo writes per account, by points per hour and per day; `cost` is the call's points. Counted
 * by the account object, the account's single writer, with the write: no D1 round trip before
 * the object call.
 */
export function repoWriteLimits<Call extends RateLimitedCall & { config: Config }>(
  cost: number | ((call: Call) => number),
): RateLimitRule<Call>[] {
  const countedBy = 'account-object'
  return [
    {
      limit: accountLimit('repo-write-hour', HOUR, 'repoWritePointsPerHour'),
      key: 'account',
      cost,
      countedBy,
    },
    {
      limit: accountLimit('repo-write-day', DAY, 'repoWritePointsPerDay'),
      key: 'account',
      cost,
      countedBy,
    },
  ]
}

export const UPDATE_HANDLE_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: accountLimit('updateHandle-5min', 300, 'updateHandlePer5Minutes'), key: 'account' },
  { limit: accountLimit('updateHandle-day', DAY, 'updateHandlePerDay'), key: 'account' },
]

export const UPLOAD_BLOB_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: accountLimit('uploadBlob-hour', HOUR, 'uploadBlobPerHour'), key: 'account' },
]

/**
 * Counters in the `rate_limit` table: one row per key, reset when a new window starts. A
 * call's counters are updated and read in one D1 batch: one round trip however many rules.
 */
export function d1RateLimitStore(database: Db | (() => Db)): RateLimitStore {
  const dbOf = typeof database === 'function' ? database : () => database
  const query = (db: Db, { key, windowStart, points }: CounterUpdate) =>
    points === null
      ? db
          .select({ count: rateLimit.count })
          .from(rateLimit)
          .where(and(eq(rateLimit.key, key), eq(rateLimit.windowStart, windowStart)))
      : db
          .insert(rateLimit)
          .values({ key, windowStart, count: points })
          .onConflictDoUpdate({
            target: rateLimit.key,
            set: {
              count: sql`CASE WHEN ${rateLimit.windowStart} = excluded.window_start
                         THEN ${rateLimit.count} + excluded.count ELSE excluded.count END`,
              windowStart: sql`excluded.window_start`,
            },
          })
          .returning({ count: rateLimit.count })
  return {
    async count(updates) {
      const db = dbOf()
      const [first, ...rest] = updates.map((update) => query(db, update))
      if (!first) return []
      const rows: { count: number }[][] =
        rest.length === 0 ? [await first] : await db.batch([first, ...rest])
      return rows.map((found, i) => found[0]?.count ?? updates[i]!.points ?? 0)
    },
  }
}

/** Write points count per day; the config refuses any longer window. */
const LONGEST_WINDOW_MS = MAX_RATE_LIMIT_WINDOW_SECONDS * 1000

/**
 * Forgets counters whose window ended: the next hit would start the count afresh anyway.
 * Judged by the longest window, so no counter still in its window is lost.
 */
export async function deleteStaleRateLimits(db: Db, now: Date): Promise<void> {
  await db.run(
    sql`DELETE FROM rate_limit WHERE window_start < ${now.getTime() - LONGEST_WINDOW_MS}`,
  )
}
