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

function memoryStore(): RateLimitStore & { keys: string[] } {
  const counts = new Map<string, number>()
  return {
    keys: [],
    async add(key, windowStart, points) {
      this.keys.push(key)
      const next = (counts.get(`${key}@${windowStart}`) ?? 0) + points
      counts.set(`${key}@${windowStart}`, next)
      return next
    },
    async read(key, windowStart) {
      this.keys.push(key)
      return counts.get(`${key}@${windowStart}`) ?? 0
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

describe('addressPrefix', () => {
  it('keeps IPv4 addresses and reduces IPv6 ones to their /64, however written', () => {
    expect(addressPrefix('192.0.2.1')).toBe('192.0.2.1')
    expect(addressPrefix('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(addressPrefix('2001:0DB8:0001:0002:ffff:0:0:1')).toBe('2001:db8:1:2::/64')
    expect(addressPrefix('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressPrefix('::1')).toBe('0:0:0:0::/64')
  })
})
