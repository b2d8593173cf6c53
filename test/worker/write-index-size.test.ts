/**
 * A record's JSON (what the D1 index stores) can be about six times its DAG-CBOR (escaped
 * control characters, base64 `$bytes`), past D1's 2 MB value limit. The Worker refuses such a
 * record before it is committed; a commit that carries one anyway (committed before the check
 * existed) is still indexed, without the value, and never holds back the account's delivery.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { accountStub } from '../../src/bindings.ts'
import { encodeCbor } from '../../src/data/cbor.ts'
import { MAX_RECORD_JSON_BYTES } from '../../src/limits.ts'
import {
  createTestAccount as createAccountObject,
  ok,
  outboxSize,
  patchSinks,
  post,
  recordRows,
  repoRoot,
  runAlarmUntilIdle,
} from './account-helpers.ts'
import { createTestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const COLLECTION = 'com.example.note'
/** One byte of CBOR each, six of JSON (`\u0001`). */
const control = (n: number) => '\u0001'.repeat(n)

describe('record JSON size', () => {
  it('refuses a record whose JSON is too large for the index, before committing it', async () => {
    const alice = await createTestAccount('bigjson')
    const text = control(Math.ceil(MAX_RECORD_JSON_BYTES / 6) + 10)
    const before = await accountStub(env, alice.did).getHead()
    const res = await xrpcPost(
      'com.atproto.repo.createRecord',
      { repo: alice.did, collection: COLLECTION, record: { $type: COLLECTION, text } },
      alice.accessJwt,
    )
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('InvalidRequest')
    expect(String(res.body.message)).toMatch(/JSON/)
    expect(await accountStub(env, alice.did).getHead()).toEqual(before)
  })

  it('accepts a record just under the bound', async () => {
    const alice = await createTestAccount('bigjson')
    const text = control(Math.floor(MAX_RECORD_JSON_BYTES / 6) - 100)
    const res = await xrpcPost(
      'com.atproto.repo.createRecord',
      { repo: alice.did, collection: COLLECTION, record: { $type: COLLECTION, text } },
      alice.accessJwt,
    )
    expect(res.status).toBe(200)
  })

  it('indexes a committed oversized record without its value and serves it from the repo', async () => {
    const alice = await createTestAccount('bigjson')
    const stub = accountStub(env, alice.did)
    const big = { $type: COLLECTION, text: control(900_000) }
    // Straight to the account object: a commit the Worker's check did not see.
    const first = ok(
      await stub.applyWrites({
        writes: [
          { action: 'create', collection: COLLECTION, rkey: 'big', record: encodeCbor(big) },
        ],
      }),
    )
    const second = ok(
      await stub.applyWrites({
        writes: [
          {
            action: 'create',
            collection: COLLECTION,
            rkey: 'small',
            record: encodeCbor({ $type: COLLECTION, text: 'after' }),
          },
        ],
      }),
    )
    await runAlarmUntilIdle({ stub })
    expect(await outboxSize(stub)).toBe(0)
    expect(await repoRoot(alice.did)).toEqual(second.commit)
    const rows = await recordRows(alice.did)
    expect(rows.map((r) => [r.rkey, r.cid])).toEqual([
      ['big', first.results[0]!.cid],
      ['small', second.results[0]!.cid],
    ])
    expect(rows.every((r) => r.value.length < MAX_RECORD_JSON_BYTES)).toBe(true)

    const got = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.did,
      collection: COLLECTION,
      rkey: 'big',
    })
    expect(got.status).toBe(200)
    expect(got.body.cid).toBe(first.results[0]!.cid)
    expect(got.body.value).toEqual(big)
    const list = await xrpcGet<{ records: { uri: string; value: unknown }[] }>(
      'com.atproto.repo.listRecords',
      { repo: alice.did, collection: COLLECTION },
    )
    expect(list.status).toBe(200)
    expect(list.body.records.map((r) => r.value)).toEqual([
      { $type: COLLECTION, text: 'after' },
      big,
    ])
  })
})

describe('a commit D1 refuses every time', () => {
  it('holds back no later commit, and is indexed without its values in the end', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const account = await createAccountObject()
    const write = async (rkey: string) =>
      ok(
        await account.stub.applyWrites({
          writes: [
            { action: 'create', collection: 'app.bsky.feed.post', rkey, record: post(rkey) },
          ],
        }),
      )
    await runAlarmUntilIdle(account)
    await patchSinks(account.stub, (sinks) => ({
      index: {
        ...sinks.index,
        applyCommits: async (did, commits) => {
          const poisoned = commits.some((c) => c.upserts.some((u) => u.rkey === 'bad' && u.value))
          if (poisoned) throw new Error('injected: D1 refuses this value')
          return sinks.index.applyCommits(did, commits)
        },
      },
    }))
    const bad = await write('bad')
    expect(bad.indexed).toBe(false)
    // While D1 indexes nothing else, nothing is given up: it could be an outage.
    expect(await recordRows(account.did)).toEqual([])
    // A later commit is indexed although the one before it is not; once D1 has taken it, the
    // refused one goes without its values.
    const later = await write('later')
    expect(later.indexed).toBe(true)
    await runAlarmUntilIdle(account)
    expect(await outboxSize(account.stub)).toBe(0)
    const rows = await recordRows(account.did)
    expect(rows.map((r) => [r.rkey, r.cid, r.value === ''])).toEqual([
      ['bad', bad.results[0]!.cid, true],
      ['later', later.results[0]!.cid, false],
    ])
    expect(await repoRoot(account.did)).toEqual(later.commit)
    warn.mockRestore()
  })
})
