/**
 * The Cron Trigger's cleanup of D1 rows that expire (src/scheduled.ts): each table's job
 * deletes the rows past their time and keeps the ones still live.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { RATE_LIMIT_DEFAULTS } from '../../src/config.ts'
import { putAccountToken } from '../../src/db/account-tokens.ts'
import { getDb } from '../../src/db/index.ts'
import {
  insertOAuthRequest,
  insertOAuthSession,
  rememberDeviceAccount,
} from '../../src/db/oauth.ts'
import { insertReservedKey } from '../../src/db/reserved-keys.ts'
import { adminSession } from '../../src/db/schema.ts'
import { insertRefreshToken } from '../../src/db/sessions.ts'
import { claimJti } from '../../src/db/used-jti.ts'
import { d1RateLimitStore } from '../../src/rate-limit.ts'
import { expiredRowsJobs, runScheduledJobs, scheduledJobs } from '../../src/scheduled.ts'

const db = getDb(env.DB)
const now = new Date('2030-01-01T12:00:00.000Z')
const at = (deltaMs: number) => new Date(now.getTime() + deltaMs)

async function ids(query: string): Promise<string[]> {
  const { results } = await env.DB.prepare(query).all<{ id: string }>()
  return results.map((row) => row.id).sort()
}

describe('expired D1 rows', () => {
  it('every cleanup job is registered with the Cron Trigger', () => {
    for (const job of expiredRowsJobs) expect(scheduledJobs).toContain(job)
    expect(expiredRowsJobs.map((job) => job.name).sort()).toEqual([
      'expired-account_token',
      'expired-admin_session',
      'expired-oauth',
      'expired-rate_limit',
      'expired-refresh_token',
      'expired-reserved_signing_key',
      'expired-used_jti',
    ])
  })

  it('deletes expired rows of each table and keeps live ones', async () => {
    const did = 'did:plc:expiredrows'
    for (const [id, expiresAt] of [
      ['refresh-old', at(-1000)],
      ['refresh-live', at(60_000)],
    ] as const) {
      await insertRefreshToken(db, {
        id,
        did,
        appPasswordName: null,
        nextId: null,
        expiresAt: expiresAt.toISOString(),
      })
    }
    // Valid 15 minutes from the request.
    await putAccountToken(db, {
      did,
      purpose: 'delete_account',
      token: 'OLD',
      requestedAt: at(-16 * 60_000).toISOString(),
    })
    await putAccountToken(db, {
      did,
      purpose: 'confirm_email',
      token: 'LIVE',
      requestedAt: at(-14 * 60_000).toISOString(),
    })
    const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
    await claimJti(db, 'iss:jti-old', seconds(at(-1000)))
    await claimJti(db, 'iss:jti-live', seconds(at(60_000)))
    // The longest window is an hour: a counter from two hours ago is over, one from now is not.
    // Counters live as long as the longest window a method may declare (a day).
    const limit = RATE_LIMIT_DEFAULTS.requestAccountDeletePerDid
    const store = d1RateLimitStore(db)
    await store.count([
      { key: `${limit.name}:old-subject`, windowStart: at(-25 * 3600_000).getTime(), points: 1 },
      { key: `${limit.name}:live-subject`, windowStart: at(-23 * 3600_000).getTime(), points: 1 },
    ])

    for (const [idHash, expiresAt] of [
      ['admin-old', at(-1000)],
      ['admin-live', at(60_000)],
    ] as const) {
      await db
        .insert(adminSession)
        .values({ idHash, csrf: 'c', expiresAt: expiresAt.toISOString() })
    }
    // Reserved signing keys nobody claimed within 7 days.
    for (const [id, createdAt] of [
      ['did:plc:reservedold', at(-8 * 24 * 3600_000)],
      ['did:plc:reservedlive', at(-6 * 24 * 3600_000)],
    ] as const) {
      await insertReservedKey(db, {
        id,
        signingKeyDid: 'did:key:z',
        signingKeyEncrypted: 'v1.x.y',
        createdAt: createdAt.toISOString(),
      })
    }

    await runScheduledJobs(env, now, expiredRowsJobs)

    expect(await ids('SELECT id FROM refresh_token')).toEqual(['refresh-live'])
    expect(await ids('SELECT token AS id FROM account_token')).toEqual(['LIVE'])
    expect(await ids('SELECT id FROM used_jti')).toEqual(['iss:jti-live'])
    expect(await ids('SELECT id_hash AS id FROM admin_session')).toEqual(['admin-live'])
    expect(await ids('SELECT key AS id FROM rate_limit')).toEqual([`${limit.name}:live-subject`])
    expect(await ids('SELECT id FROM reserved_signing_key')).toEqual(['did:plc:reservedlive'])
  })
  it('deletes expired OAuth requests, sessions and remembered sign-ins', async () => {
    const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
    for (const [id, expiresAt] of [
      ['request-old', seconds(at(-1000))],
      ['request-live', seconds(at(60_000))],
    ] as const) {
      await insertOAuthRequest(db, {
        id,
        clientId: 'http://localhost',
        clientAuth: '{"method":"none"}',
        parameters: '{}',
        dpopJkt: 'jkt',
        deviceId: null,
        did: null,
        codeHash: null,
        expiresAt,
      })
      await insertOAuthSession(db, {
        id: `session-${id}`,
        did: 'did:plc:expiredrows',
        clientId: 'http://localhost',
        clientName: null,
        clientAuth: '{"method":"none"}',
        scope: 'atproto',
        dpopJkt: 'jkt',
        refreshHash: `refresh-${id}`,
        previousRefreshHash: null,
        codeHash: `code-${id}`,
        createdAt: 0,
        updatedAt: 0,
        expiresAt,
      })
      await rememberDeviceAccount(db, `device-${id}`, 'did:plc:expiredrows', 0, expiresAt)
    }

    await runScheduledJobs(env, now, expiredRowsJobs)

    expect(await ids('SELECT id FROM oauth_request')).toEqual(['request-live'])
    expect(await ids('SELECT id FROM oauth_session')).toEqual(['session-request-live'])
    expect(await ids('SELECT device_hash AS id FROM oauth_device_account')).toEqual([
      'device-request-live',
    ])
  })
})
