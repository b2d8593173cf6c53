/**
 * Rate limits on login and sign-up (src/rate-limit.ts), at their configured values: each
 * limit lets `max` attempts through in its window, then answers 429 RateLimitExceeded with
 * Retry-After. Each test calls from its own client IP so that the per-IP limits of the other
 * tests do not interfere.
 */
import { describe, expect, it } from 'vitest'
import { LIMITS } from '../../src/rate-limit.ts'
import { createTestAccount, uniqueHandle, xrpcPost } from './helpers/xrpc.ts'

function fromIp(ip: string): Record<string, string> {
  return { 'cf-connecting-ip': ip }
}

function login(identifier: string, password: string, ip: string) {
  return xrpcPost(
    'com.atproto.server.createSession',
    { identifier, password },
    undefined,
    fromIp(ip),
  )
}

/**
 * The windows are fixed (aligned on multiples of their length), so a run that straddles a
 * window's end would see its count reset: start in a fresh window when the current one ends
 * within `needSeconds`.
 */
async function startInFreshWindow(windowSeconds: number, needSeconds: number): Promise<void> {
  const windowMs = windowSeconds * 1000
  const left = windowMs - (Date.now() % windowMs)
  if (left < needSeconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}

function expectLimited(res: { status: number; body: unknown; headers: Headers }, window: number) {
  expect(res.status).toBe(429)
  expect(res.body).toMatchObject({ error: 'RateLimitExceeded', message: expect.any(String) })
  const retryAfter = Number(res.headers.get('retry-after'))
  expect(Number.isInteger(retryAfter)).toBe(true)
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(window)
}

describe('createSession', () => {
  it('limits attempts per identifier, then refuses even the right password', async () => {
    const account = await createTestAccount('ratelim')
    const { max, windowSeconds } = LIMITS.createSessionPerIdentifier
    await startInFreshWindow(windowSeconds, 15)
    for (let i = 0; i < max; i++) {
      const res = await login(account.handle, 'wrong password', '192.0.2.1')
      expect(res.status).toBe(401)
    }
    // Counted case-insensitively, from any IP.
    const limited = await login(account.handle.toUpperCase(), account.password, '192.0.2.2')
    expectLimited(limited, windowSeconds)

    // Another identifier of the same account is another key; other accounts are unaffected.
    expect((await login(account.did, account.password, '192.0.2.3')).status).toBe(200)
    const other = await createTestAccount('ratefree')
    expect((await login(other.handle, other.password, '192.0.2.1')).status).toBe(200)
  }, 60_000)

  it('limits attempts per IP across identifiers', async () => {
    const { max, windowSeconds } = LIMITS.createSessionPerIp
    const ip = '198.51.100.7'
    await startInFreshWindow(windowSeconds, 20)
    for (let i = 0; i < max; i++) {
      const res = await login(`nobody${i}.test`, 'wrong password', ip)
      expect(res.status).toBe(401)
    }
    expectLimited(await login('someone-else.test', 'wrong password', ip), windowSeconds)
    expect((await login('someone-else.test', 'wrong password', '198.51.100.8')).status).toBe(401)
  }, 60_000)
})

describe('createAccount', () => {
  it('limits sign-ups per IP, valid or not', async () => {
    const { max, windowSeconds } = LIMITS.createAccountPerIp
    const ip = '203.0.113.9'
    await startInFreshWindow(windowSeconds, 15)
    for (let i = 0; i < max; i++) {
      // Refused by the handle check after the limit is counted: no PLC traffic.
      const res = await xrpcPost(
        'com.atproto.server.createAccount',
        { handle: 'ab.test', email: 'x@example.com', password: 'correct horse battery' },
        undefined,
        fromIp(ip),
      )
      expect(res.status).toBe(400)
    }
    const limited = await xrpcPost(
      'com.atproto.server.createAccount',
      {
        handle: uniqueHandle('ratesign'),
        email: 'y@example.com',
        password: 'correct horse battery',
      },
      undefined,
      fromIp(ip),
    )
    expectLimited(limited, windowSeconds)
  }, 60_000)
})

describe('account deletion', () => {
  it('limits deleteAccount password attempts per DID', async () => {
    const account = await createTestAccount('ratedel')
    const { max, windowSeconds } = LIMITS.deleteAccountPerDid
    await startInFreshWindow(windowSeconds, 15)
    const attempt = () =>
      xrpcPost('com.atproto.server.deleteAccount', {
        did: account.did,
        password: 'wrong password',
        token: 'ABCDE-FGHJK',
      })
    for (let i = 0; i < max; i++) expect((await attempt()).status).toBe(401)
    expectLimited(await attempt(), windowSeconds)
  }, 60_000)

  it('limits deletion token requests per DID', async () => {
    const account = await createTestAccount('ratereq')
    const { max, windowSeconds } = LIMITS.requestAccountDeletePerDid
    await startInFreshWindow(windowSeconds, 15)
    const request = () =>
      xrpcPost('com.atproto.server.requestAccountDelete', undefined, account.accessJwt)
    for (let i = 0; i < max; i++) expect((await request()).status).toBe(200)
    expectLimited(await request(), windowSeconds)
  })
})
