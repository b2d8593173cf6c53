/**
 * Per-account limits on repo writes (points: create 3, update 2, delete 1), updateHandle and
 * uploadBlob, declared on the methods and set through the config. The test pool's values
 * are the defaults; these tests dispatch with low values (helpers/dispatch.ts) against the
 * same D1 counters and account objects.
 */

import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getConfig } from '../../src/config.ts'
import { startInFreshWindow } from '../helpers/windows.ts'
import { dispatcherWith, tracedDispatcherWith } from './helpers/dispatch.ts'
import { createTestAccount, uniqueHandle, xrpcGet } from './helpers/xrpc.ts'

function post(token: string, body: unknown, contentType = 'application/json'): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
    body: contentType === 'application/json' ? JSON.stringify(body) : (body as BodyInit),
  }
}

describe('per-account limits', () => {
  it('has the reference PDS defaults', () => {
    expect(getConfig(env).accountLimits).toEqual({
      repoWritePointsPerHour: 5000,
      repoWritePointsPerDay: 35_000,
      updateHandlePer5Minutes: 10,
      updateHandlePerDay: 50,
      uploadBlobPerHour: 1000,
    })
  })

  it('counts repo writes in points per account', async () => {
    const dispatch = dispatcherWith({ PDS_RATE_LIMIT_WRITE_POINTS_HOUR: '10' })
    const alice = await createTestAccount('wlimit')
    const bob = await createTestAccount('wlimitb')
    await startInFreshWindow(3600, 30)
    const create = (token: string, did: string, rkey: string) =>
      dispatch(
        'com.atproto.repo.createRecord',
        post(token, {
          repo: did,
          collection: 'com.example.note',
          rkey,
          record: { $type: 'com.example.note', text: rkey },
        }),
      )
    expect((await create(alice.accessJwt, alice.did, 'a1')).status).toBe(200) // 3
    expect((await create(alice.accessJwt, alice.did, 'a2')).status).toBe(200) // 6
    const batch = await dispatch(
      'com.atproto.repo.applyWrites',
      post(alice.accessJwt, {
        repo: alice.did,
        writes: [
          {
            $type: 'com.atproto.repo.applyWrites#delete',
            collection: 'com.example.note',
            rkey: 'a1',
          },
          {
            $type: 'com.atproto.repo.applyWrites#delete',
            collection: 'com.example.note',
            rkey: 'a2',
          },
        ],
      }),
    )
    expect(batch.status).toBe(200) // 8
    const limited = await create(alice.accessJwt, alice.did, 'a3') // 11
    expect(limited.status).toBe(429)
    expect(await limited.json()).toMatchObject({ error: 'RateLimitExceeded' })
    const del = await dispatch(
      'com.atproto.repo.deleteRecord',
      post(alice.accessJwt, { repo: alice.did, collection: 'com.example.note', rkey: 'a3' }),
    )
    expect(del.status).toBe(429) // refused calls still count: 12 > 10
    // putRecord too: each of the four write methods hands its points to the account object.
    const put = await dispatch(
      'com.atproto.repo.putRecord',
      post(alice.accessJwt, {
        repo: alice.did,
        collection: 'com.example.note',
        rkey: 'a4',
        record: { $type: 'com.example.note', text: 'a4' },
      }),
    )
    expect(put.status).toBe(429) // 15 > 10
    // Another account has its own budget.
    expect((await create(bob.accessJwt, bob.did, 'b1')).status).toBe(200)
  })

  it('limits handle changes and blob uploads per account', async () => {
    const dispatch = dispatcherWith({
      PDS_RATE_LIMIT_UPDATE_HANDLE_5MIN: '1',
      PDS_RATE_LIMIT_UPLOAD_BLOB_HOUR: '1',
    })
    const alice = await createTestAccount('hlimit')
    await startInFreshWindow(300, 30)
    const update = () =>
      dispatch(
        'com.atproto.identity.updateHandle',
        post(alice.accessJwt, { handle: uniqueHandle('hlimit') }),
      )
    expect((await update()).status).toBe(200)
    expect((await update()).status).toBe(429)

    const upload = () =>
      dispatch(
        'com.atproto.repo.uploadBlob',
        post(alice.accessJwt, new Uint8Array([1, 2, 3]), 'application/octet-stream'),
      )
    expect((await upload()).status).toBe(200)
    expect((await upload()).status).toBe(429)
  })

  it('counts repo writes in the account object: no D1 round trip before the object call', async () => {
    expect(getConfig(env).rateLimitsEnabled).toBe(true)
    const dispatch = tracedDispatcherWith({ PDS_RATE_LIMIT_WRITE_POINTS_HOUR: '3' })
    const alice = await createTestAccount('wobject')
    await startInFreshWindow(3600, 30)
    const create = (rkey: string) =>
      dispatch(
        'com.atproto.repo.createRecord',
        post(alice.accessJwt, {
          repo: alice.did,
          collection: 'com.example.note',
          rkey,
          record: { $type: 'com.example.note', text: rkey },
        }),
      )

    const first = await create('o1') // 3 points of 3
    expect(first.res.status).toBe(200)
    const call = first.hops.find((hop) => hop.op === 'account.applyWrites')
    expect(call).toBeDefined()
    expect(first.hops.filter((hop) => hop.kind === 'd1' && hop.start < call!.start)).toEqual([])

    const refused = await create('o2') // 6 > 3: refused by the object, nothing committed
    expect(refused.res.status).toBe(429)
    expect(await refused.res.json()).toMatchObject({
      error: 'RateLimitExceeded',
      message: expect.any(String),
    })
    const retryAfter = Number(refused.res.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter)).toBe(true)
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    const missing = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.did,
      collection: 'com.example.note',
      rkey: 'o2',
    })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ error: 'RecordNotFound' })
  })
})
