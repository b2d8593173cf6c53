/**
 * The rate limits' numbers, and their counters in D1 (one upsert per counted call). Which
 * limits a method has, and on what they are keyed, is declared with the method
 * (`rateLimits:` in `defineMethod`); the dispatcher applies them (`src/xrpc/rate-limits.ts`).
 */
import { sql } from 'drizzle-orm'
import type { AccountLimits, Config } from './config.ts'
import type { Db } from './db/index.ts'
import {
  addressPrefix,
  clientIp,
  type RateLimit,
  type RateLimitedCall,
  type RateLimitRule,
  type RateLimitStore,
} from './xrpc/rate-limits.ts'

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
  /** Mailed codes, over every method that mails one: per account and per client address. */
  mailPerAccount: { name: 'mail-acct', windowSeconds: 3600, max: 15 },
  mailPerIp: { name: 'mail-ip', windowSeconds: 3600, max: 100 },
  /** Password-reset mails per address asked about, whether an account has it or not. */
  mailPerAddress: { name: 'mail-addr', windowSeconds: 3600, max: 5 },
  /** Mailed codes typed back: per account, and per client address where none is named. */
  tokenChecksPerAccount: { name: 'token-check-acct', windowSeconds: 300, max: 30 },
  tokenChecksPerIp: { name: 'token-check-ip', windowSeconds: 300, max: 50 },
  /** Whole-repo imports (up to 100 MiB each) per account: a migration needs a few. */
  importRepoPerDid: { name: 'importRepo-did', windowSeconds: 3600, max: 20 },
  /** Each call may store a key: bounded per address. */
  reserveSigningKeyPerIp: { name: 'reserveSigningKey-ip', windowSeconds: 300, max: 50 },
  requestPlcOperationSignaturePerDid: {
    name: 'requestPlcOperationSignature-did',
    windowSeconds: 3600,
    max: 5,
  },
  /** Token guesses and PLC directory calls, per account. */
  signPlcOperationPerDid: { name: 'signPlcOperation-did', windowSeconds: 300, max: 30 },
  submitPlcOperationPerDid: { name: 'submitPlcOperation-did', windowSeconds: 300, max: 30 },
} satisfies Record<string, RateLimit>

/**
 * What every method that mails a code to the caller's account declares. The address is keyed
 * by a function so that the count comes after auth: only signed-in calls that mail count.
 */
export const MAIL_LIMITS: RateLimitRule[] = [
  { limit: LIMITS.mailPerIp, key: ({ request }) => addressPrefix(clientIp(request)) },
  { limit: LIMITS.mailPerAccount, key: 'account' },
]

/** What every method that takes a mailed code from a signed-in caller declares. */
export const TOKEN_CHECK_LIMITS: RateLimitRule[] = [
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

/** Repo writes per account, by points per hour and per day; `cost` is the call's points. */
export function repoWriteLimits<Call extends RateLimitedCall & { config: Config }>(
  cost: number | ((call: Call) => number),
): RateLimitRule<Call>[] {
  return [
    {
      limit: accountLimit('repo-write-hour', HOUR, 'repoWritePointsPerHour'),
      key: 'account',
      cost,
    },
    { limit: accountLimit('repo-write-day', DAY, 'repoWritePointsPerDay'), key: 'account', cost },
  ]
}

export const UPDATE_HANDLE_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: accountLimit('updateHandle-5min', 300, 'updateHandlePer5Minutes'), key: 'account' },
  { limit: accountLimit('updateHandle-day', DAY, 'updateHandlePerDay'), key: 'account' },
]

export const UPLOAD_BLOB_LIMITS: RateLimitRule<RateLimitedCall & { config: Config }>[] = [
  { limit: accountLimit('uploadBlob-hour', HOUR, 'uploadBlobPerHour'), key: 'account' },
]

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

/** Declared limits may count per day (write points); no window is longer than that. */
const ONE_DAY_SECONDS = 86_400
const LONGEST_WINDOW_MS =
  Math.max(ONE_DAY_SECONDS, ...Object.values(LIMITS).map((l) => l.windowSeconds)) * 1000

/**
 * Forgets counters whose window ended: the next hit would start the count afresh anyway.
 * Judged by the longest window, so no counter still in its window is lost.
 */
export async function deleteStaleRateLimits(db: Db, now: Date): Promise<void> {
  await db.run(
    sql`DELETE FROM rate_limit WHERE window_start < ${now.getTime() - LONGEST_WINDOW_MS}`,
  )
}
