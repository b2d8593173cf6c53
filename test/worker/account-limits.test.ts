/**
 * Per-account limits on repo writes (points: create 3, update 2, delete 1), updateHandle and
 * uploadBlob, declared on the methods and set through the config. The test pool's values
 * are the defaults; these tests dispatch with low values (helpers/dispatch.ts) against the
 * same D1 counters and account objects.
 */

import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getConfig } from '../../src/config.ts'
import { dispatcherWith } from './helpers/dispatch.ts'
import { startInFreshWindow } from './helpers/windows.ts'
import { createTestAccount, uniqueHandle } from './helpers/xrpc.ts'

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
})
