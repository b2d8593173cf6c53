/**
 * Rate limits as methods declare them (`rateLimits:` in `defineMethod`) and as the dispatcher
 * applies them around the handler. Windows are fixed (aligned on multiples of their length);
 * the counters live behind `RateLimitStore` (D1 in the Worker: `src/rate-limit.ts`).
 *
 * A rule counts every call by default: the call is counted first and refused past the max.
 * A rule that counts `failures` (password guesses) is checked before the handler, refusing
 * once the max is reached, and counted only when the call is refused for its credentials
 * (401: a wrong password, a bad admin password), not for bad input; concurrent calls may
 * each pass the check before any of them is counted.
 *
 * Rules keyed on `ip` are applied before authentication (so that failed credentials count,
 * e.g. admin Basic auth), unless their cost depends on the call; the others after auth and
 * input validation.
 */
import { sha256 } from '../crypto/hash.ts'
import { base64UrlEncode } from '../data/base64.ts'
import { fixedWindow } from '../limits.ts'
import { RateLimitExceededError } from './errors.ts'

export interface RateLimit {
  /** Names the limit in the counter key, e.g. `createSession-ip`. */
  name: string
  windowSeconds: number
  max: number
}

/** What a rule's key and cost may depend on: the call after auth and validation. */
export interface RateLimitedCall {
  nsid: string
  auth: unknown
  request: Request
}

export interface RateLimitRule<Call extends RateLimitedCall = RateLimitedCall> {
  /** The numbers, or a function of the call that reads them from the config. */
  limit: RateLimit | ((call: Call) => RateLimit)
  /**
   * `ip`: the client's address (its /64 for IPv6); `account`: the authenticated caller's DID;
   * or a key computed from the validated call (e.g. the account a login names). Keys are
   * case-insensitive.
   */
  key: 'ip' | 'account' | ((call: Call) => string | Promise<string>)
  /** Points one call takes (1 by default), e.g. per operation of a batch of writes. */
  cost?: number | ((call: Call) => number)
  counts?: 'every-call' | 'failures'
  /**
   * `account-object`: the dispatcher does not count this rule; it resolves it (key, window, max,
   * cost) and hands it to the handler (`accountObjectLimits`), whose write the account's Durable
   * Object counts in its own storage before the commit. So a write costs no round trip to a
   * counter store before the object call. Only for rules keyed on the account that count every
   * call.
   */
  countedBy?: 'dispatcher' | 'account-object'
}

/** A rule the account object counts, resolved for one call. */
export interface ObjectCountedLimit {
  key: string
  windowSeconds: number
  max: number
  cost: number
}

/** Whether the account object, not the dispatcher, counts the rule. */
export function countedByObject(rule: RateLimitRule<never>): boolean {
  return rule.countedBy === 'account-object'
}

/** The rules the account object counts, resolved for the call, for the handler to pass on. */
export async function objectCountedLimits<Call extends RateLimitedCall>(
  rules: readonly RateLimitRule<Call>[],
  call: Call,
): Promise<ObjectCountedLimit[]> {
  const limits: ObjectCountedLimit[] = []
  for (const rule of rules) {
    const { limit, key, cost } = await resolveRule(rule, call)
    limits.push({ key, windowSeconds: limit.windowSeconds, max: limit.max, cost })
  }
  return limits
}

/** For methods without limits, written out so that none is forgotten. */
export const noRateLimits: readonly [] = Object.freeze([]) as readonly []

/** One counter a call touches: `points` added to it, or null to only read it. */
export interface CounterUpdate {
  key: string
  windowStart: number
  points: number | null
}

export interface RateLimitStore {
  /**
   * Applies every update in one round trip; the count of each counter after it (0 when it has
   * none in the window starting at `windowStart`), in order.
   */
  count(updates: readonly CounterUpdate[]): Promise<number[]>
}

/**
 * Whether the dispatcher applies the rule before authentication: keyed on `ip`, with a cost
 * that does not depend on the input.
 */
export function appliesBeforeAuth(rule: RateLimitRule<never>): boolean {
  return rule.key === 'ip' && typeof rule.cost !== 'function'
}

/**
 * Applies `rules`, refusing with the first one in order that is over its max. All of a call's
 * counters are read and counted together, in one round trip to the store (so a call refused by
 * one rule is still counted by the others, as the reference PDS consumes all of a call's
 * limiters at once). Returns what to do when the call fails: count the rules that count
 * failures.
 */
export async function enforceRateLimits<Call extends RateLimitedCall>(
  rules: readonly RateLimitRule<Call>[],
  call: Call,
  store: RateLimitStore,
  nowMs = Date.now(),
): Promise<() => Promise<void>> {
  const checks: (CounterUpdate & { max: number; cost: number; retryAfter: number })[] = []
  for (const rule of rules) {
    const { limit, key, cost } = await resolveRule(rule, call)
    const window = fixedWindow(nowMs, limit.windowSeconds)
    checks.push({
      key,
      windowStart: window.start,
      // A rule counting failures is only read now, and counted if the call fails.
      points: rule.counts === 'failures' ? null : cost,
      max: limit.max,
      cost,
      retryAfter: window.retryAfterSeconds,
    })
  }
  const counts = checks.length > 0 ? await store.count(checks) : []
  for (const [i, check] of checks.entries()) {
    const count = counts[i] ?? 0
    if (check.points === null ? count + check.cost > check.max : count > check.max) {
      throw new RateLimitExceededError(check.retryAfter)
    }
  }
  const onFailure = checks
    .filter((check) => check.points === null)
    .map(({ key, windowStart, cost }) => ({ key, windowStart, points: cost }))
  return async () => {
    if (onFailure.length > 0) await store.count(onFailure)
  }
}

/** A rule's numbers, counter key and cost for one call. */
async function resolveRule<Call extends RateLimitedCall>(
  rule: RateLimitRule<Call>,
  call: Call,
): Promise<{ limit: RateLimit; key: string; cost: number }> {
  const limit = typeof rule.limit === 'function' ? rule.limit(call) : rule.limit
  const cost = typeof rule.cost === 'function' ? rule.cost(call) : (rule.cost ?? 1)
  return { limit, key: counterKey(limit, await subjectOf(rule, call)), cost }
}

/** Subjects longer than this are stored as their hash, so a key never grows with the input. */
const MAX_PLAIN_SUBJECT = 64

/** `<limit>:<subject>`, case-insensitive; a long subject (an identifier...) by its SHA-256. */
function counterKey(limit: RateLimit, subject: string): string {
  const lower = subject.toLowerCase()
  if (lower.length <= MAX_PLAIN_SUBJECT) return `${limit.name}:${lower}`
  return `${limit.name}:#${base64UrlEncode(sha256(new TextEncoder().encode(lower)))}`
}

async function subjectOf<Call extends RateLimitedCall>(
  rule: RateLimitRule<Call>,
  call: Call,
): Promise<string> {
  if (rule.key === 'ip') return addressPrefix(clientIp(call.request))
  if (rule.key === 'account') {
    const did = (call.auth as { did?: unknown } | null)?.did
    if (typeof did !== 'string') {
      throw new Error(`${call.nsid}: a rate limit is per account, but no account called`)
    }
    return did
  }
  return rule.key(call)
}

/** The client's IP as Cloudflare reports it; a constant locally so limits still apply. */
export function clientIp(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'local'
}

/**
 * What an address limit counts: an IPv4 address, or the /64 an IPv6 address is in (one
 * subscriber usually holds a whole /64 and can rotate within it at will).
 */
export function addressPrefix(ip: string): string {
  if (!ip.includes(':')) return ip
  const [head = '', tail] = ip.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
