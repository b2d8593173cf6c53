/**
 * The declared rate limits' counter keys (src/xrpc/rate-limits.ts): whatever a key function
 * returns, the key stored is short, so a caller cannot fill the counter store with long keys.
 */
import { describe, expect, it } from 'vitest'
import {
  addressPrefix,
  enforceRateLimits,
  type RateLimitedCall,
  type RateLimitStore,
} from '../../src/xrpc/rate-limits.ts'

function memoryStore(): RateLimitStore & { keys: string[]; rounds: number } {
  const counts = new Map<string, number>()
  return {
    keys: [],
    rounds: 0,
    async count(updates) {
      this.rounds++
      return updates.map(({ key, windowStart, points }) => {
        this.keys.push(key)
        const next = (counts.get(`${key}@${windowStart}`) ?? 0) + (points ?? 0)
        counts.set(`${key}@${windowStart}`, next)
        return next
      })
    },
  }
}

const call: RateLimitedCall = {
  nsid: 'com.example.method',
  auth: null,
  request: new Request('http://localhost/'),
}

describe('rate limit keys', () => {
  it('stores a bounded key for any subject, still one counter per subject', async () => {
    const store = memoryStore()
    const limit = { name: 'example-id', windowSeconds: 60, max: 1 }
    const long = (c: string) => c.repeat(200_000)
    await enforceRateLimits([{ limit, key: () => long('a') }], call, store)
    await enforceRateLimits([{ limit, key: () => long('b') }], call, store)
    for (const key of store.keys) expect(key.length).toBeLessThanOrEqual(128)
    // Same subject, same counter: the second call of 'a' is over the max of 1.
    await expect(
      enforceRateLimits([{ limit, key: () => long('a') }], call, store),
    ).rejects.toMatchObject({ status: 429 })
    // Case-insensitive, as before.
    await expect(
      enforceRateLimits([{ limit, key: () => long('B') }], call, store),
    ).rejects.toMatchObject({ status: 429 })
  })
})

describe('rate limits applied together', () => {
  const hour = { name: 'writes-hour', windowSeconds: 3600, max: 2 }
  const day = { name: 'writes-day', windowSeconds: 86_400, max: 10 }
  const failures = { name: 'fails', windowSeconds: 300, max: 1 }

  it('reads and counts all of a call’s counters in one round trip to the store', async () => {
    const store = memoryStore()
    const rules = [
      { limit: hour, key: () => 'acct' },
      { limit: day, key: () => 'acct' },
      { limit: failures, key: () => 'acct', counts: 'failures' as const },
    ]
    const countFailure = await enforceRateLimits(rules, call, store)
    expect(store.rounds).toBe(1)
    await countFailure()
    expect(store.rounds).toBe(2)
    // The failure counted: the next call is refused before it runs, every counter read at once.
    await expect(enforceRateLimits(rules, call, store)).rejects.toMatchObject({ status: 429 })
    expect(store.rounds).toBe(3)
  })

  it('refuses past a max and still counts the call in every rule', async () => {
    const store = memoryStore()
    const rules = [
      { limit: hour, key: () => 'acct' },
      { limit: day, key: () => 'acct' },
    ]
    await enforceRateLimits(rules, call, store)
    await enforceRateLimits(rules, call, store)
    await expect(enforceRateLimits(rules, call, store)).rejects.toMatchObject({ status: 429 })
    const counts = await store.count([
      {
        key: 'writes-day:acct',
        windowStart: Math.floor(Date.now() / 86_400_000) * 86_400_000,
        points: null,
      },
    ])
    expect(counts).toEqual([3])
  })
})

describe('addressPrefix', () => {
  it('keeps IPv4 addresses and reduces IPv6 ones to their /64, however written', () => {
    expect(addressPrefix('192.0.2.1')).toBe('192.0.2.1')
    expect(addressPrefix('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(addressPrefix('2001:0DB8:0001:0002:ffff:0:0:1')).toBe('2001:db8:1:2::/64')
    expect(addressPrefix('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressPrefix('::1')).toBe('0:0:0:0::/64')
  })
})
