/**
 * Rate limits on login, sign-up and admin auth (src/rate-limit.ts), at their values: each
 * limit lets `max` attempts through in its window, then answers 429 RateLimitExceeded with
 * Retry-After. Each test calls from its own client IP so that the per-IP limits of the other
 * tests do not interfere.
 */
import { describe, expect, it } from 'vitest'
import { RATE_LIMIT_DEFAULTS as LIMITS } from '../../src/config.ts'
import { startInFreshWindow } from '../helpers/windows.ts'
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

function expectLimited(res: { status: number; body: unknown; headers: Headers }, window: number) {
  expect(res.status).toBe(429)
  expect(res.body).toMatchObject({ error: 'RateLimitExceeded', message: expect.any(String) })
  const retryAfter = Number(res.headers.get('retry-after'))
  expect(Number.isInteger(retryAfter)).toBe(true)
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(window)
}

describe('createSession', () => {
  it('limits wrong passwords per account and address; the owner elsewhere still logs in', async () => {
    const account = await createTestAccount('ratelim')
    const { max, windowSeconds } = LIMITS.createSessionFailuresPerAccountAddress
    await startInFreshWindow(windowSeconds, 20)
    // Successful logins are not counted.
    for (let i = 0; i < max + 2; i++) {
      expect((await login(account.handle, account.password, '192.0.2.1')).status).toBe(200)
    }
    for (let i = 0; i < max; i++) {
      expect((await login(account.handle, 'wrong password', '192.0.2.1')).status).toBe(401)
    }
    // That address is refused, even the right password; another one is not.
    expectLimited(await login(account.handle, account.password, '192.0.2.1'), windowSeconds)
    expect((await login(account.handle, account.password, '192.0.2.2')).status).toBe(200)
    const other = await createTestAccount('ratefree')
    expect((await login(other.handle, other.password, '192.0.2.1')).status).toBe(200)
  }, 60_000)

  it('counts every identifier of an account, however spelled, as that account', async () => {
    const account = await createTestAccount('ratealias')
    const { max, windowSeconds } = LIMITS.createSessionFailuresPerAccountAddress
    await startInFreshWindow(windowSeconds, 20)
    const spellings = [
      ` ${account.handle}`,
      `${account.handle}  `,
      account.handle.toUpperCase(),
      account.did,
      account.email,
    ]
    for (let i = 0; i < max; i++) {
      const res = await login(spellings[i % spellings.length]!, 'wrong password', '192.0.2.9')
      expect(res.status).toBe(401)
    }
    for (const identifier of spellings) {
      expectLimited(await login(identifier, account.password, '192.0.2.9'), windowSeconds)
    }
  }, 60_000)

  it('counts an IPv6 address by its /64', async () => {
    const account = await createTestAccount('ratev6')
    const { max, windowSeconds } = LIMITS.createSessionFailuresPerAccountAddress
    await startInFreshWindow(windowSeconds, 20)
    for (let i = 0; i < max; i++) {
      const ip = `2001:db8:77:1:${(i + 1).toString(16)}::1`
      expect((await login(account.handle, 'wrong password', ip)).status).toBe(401)
    }
    const sameNet = '2001:0db8:0077:0001:ffff:ffff:ffff:fffe'
    expectLimited(await login(account.handle, account.password, sameNet), windowSeconds)
    expect((await login(account.handle, account.password, '2001:db8:77:2::1')).status).toBe(200)
  }, 60_000)

  it('limits wrong passwords per account from all addresses, loosely', async () => {
    const account = await createTestAccount('rateall')
    const perAddress = LIMITS.createSessionFailuresPerAccountAddress.max
    const { max, windowSeconds } = LIMITS.createSessionFailuresPerAccount
    expect(max).toBeGreaterThanOrEqual(perAddress * 5)
    await startInFreshWindow(windowSeconds, 40)
    for (let i = 0; i < max; i++) {
      const ip = `198.18.${Math.floor(i / perAddress)}.1`
      expect((await login(account.did, 'wrong password', ip)).status).toBe(401)
    }
    expectLimited(await login(account.did, account.password, '198.18.250.1'), windowSeconds)
  }, 120_000)

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

describe('admin Basic auth', () => {
  it('limits wrong admin passwords per address', async () => {
    const { max, windowSeconds } = LIMITS.adminAuthFailuresPerIp
    await startInFreshWindow(windowSeconds, 15)
    const attempt = (password: string, ip: string) =>
      xrpcPost('com.atproto.server.createInviteCode', { useCount: 1 }, undefined, {
        authorization: `Basic ${btoa(`admin:${password}`)}`,
        ...fromIp(ip),
      })
    for (let i = 0; i < max; i++) expect((await attempt('guess', '203.0.113.50')).status).toBe(401)
    expectLimited(await attempt('guess', '203.0.113.50'), windowSeconds)
    expect((await attempt('test-admin-password', '203.0.113.51')).status).toBe(200)
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
