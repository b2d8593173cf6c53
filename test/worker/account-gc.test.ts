/**
 * Garbage collection of the account object's blocks: after any sequence of writes, the head's
 * blocks are all stored, and the rest is marked and, once nothing may read it, deleted.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EXPORT_IDLE_MS } from '../../src/account/alarm.ts'
import type { CommitArchive } from '../../src/account/archive.ts'
import { ensureAccountSchema } from '../../src/account/storage-schema.ts'
import { accountStub } from '../../src/bindings.ts'
import { readCar } from '../../src/repo/car.ts'
import { parseCommit } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import {
  createTestAccount,
  ok,
  outboxSize,
  patchSinks,
  post,
  type TestAccount,
} from './account-helpers.ts'
import { createTestAccount as createXrpcAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const POSTS = 'app.bsky.feed.post'

type Stub = TestAccount['stub']

type Write =
  | { action: 'create' | 'update'; rkey: string; text: string }
  | { action: 'delete'; rkey: string }

async function apply(stub: Stub, writes: Write[]): Promise<void> {
  ok(
    await stub.applyWrites({
      writes: writes.map((w) =>
        w.action === 'delete'
          ? { action: 'delete' as const, collection: POSTS, rkey: w.rkey }
          : { action: w.action, collection: POSTS, rkey: w.rkey, record: post(w.text) },
      ),
    }),
  )
}

type Blocks = { reachable: Set<string>; stored: Set<string>; marked: Set<string> }

/** The head's blocks (commit, MST nodes, records), the stored ones and the marked ones. */
function blocksOf(stub: Stub): Promise<Blocks> {
  return runInDurableObject(stub, async (instance: AccountDurableObject, state) => {
    const { account } = instance
    const head = account.getHead()!.cid
    const reachable = new Set([head])
    const mst = Mst.load(account.blocks, parseCommit(account.getBlock(head)!).data)
    for await (const node of mst.walkNodes()) {
      reachable.add(node.cid.toString())
      for (const entry of node.entries) reachable.add(entry.value.toString())
    }
    const column = (query: string) =>
      new Set(
        state.storage.sql
          .exec<{ cid: string }>(query)
          .toArray()
          .map((row) => row.cid),
      )
    return {
      reachable,
      stored: column('SELECT cid FROM block'),
      marked: account.pendingGarbage(),
    }
  })
}

function sweep(stub: Stub): Promise<number> {
  return runInDurableObject(stub, async (instance: AccountDurableObject) => {
    return (await instance.account.sweepGarbage(0)).deleted
  })
}

/** Every block of the head is stored and none is marked; what else is stored is marked. */
function expectMarkedExactly({ reachable, stored, marked }: Blocks): void {
  for (const cid of reachable) {
    expect(stored.has(cid), `reachable ${cid} stored`).toBe(true)
    expect(marked.has(cid), `reachable ${cid} not marked`).toBe(false)
  }
  for (const cid of stored) {
    if (!reachable.has(cid)) expect(marked.has(cid), `unreachable ${cid} marked`).toBe(true)
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function exportBytes(stub: Stub, since?: string): Promise<Uint8Array> {
  const stream = await stub.exportRepo({ since: since ?? null })
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('block garbage collection', () => {
  it('keeps exactly the head after a random sequence of writes and sweeps', async () => {
    const account = await createTestAccount('gc')
    const { stub } = account
    // Identical records under two keys, one deleted; a key deleted and created again with the
    // same content, which brings back the tree's earlier nodes.
    await apply(stub, [
      { action: 'create', rkey: 'a', text: 'same' },
      { action: 'create', rkey: 'b', text: 'same' },
    ])
    await apply(stub, [{ action: 'delete', rkey: 'b' }])
    await apply(stub, [{ action: 'create', rkey: 'c', text: 'c' }])
    await apply(stub, [{ action: 'delete', rkey: 'c' }])
    await apply(stub, [{ action: 'create', rkey: 'c', text: 'c' }])
    expectMarkedExactly(await blocksOf(stub))
    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    await runInDurableObject(stub, async (instance: AccountDurableObject, state) => {
      // Within the grace period nothing goes, and an alarm is due when it ends.
      const start = Date.now()
      const { deleted, nextAt } = await instance.account.sweepGarbage()
      expect(deleted).toBe(0)
      expect(nextAt).toBeGreaterThan(start)
      expect(nextAt).toBeLessThanOrEqual(start + 5 * 60_000 + 1)
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual(nextAt!)
      // Nor while an export is still reading blocks.
      const stream = instance.account.exportRepo(null)!
      expect((await instance.account.sweepGarbage(0)).deleted).toBe(0)
      await stream.cancel()
      expect((await instance.account.sweepGarbage(0)).deleted).toBeGreaterThan(0)
    })
    let blocks = await blocksOf(stub)
    expect(blocks.stored).toEqual(blocks.reachable)

    const next = random(20240601)
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    const texts = ['one', 'two', 'three', 'same']
    const present = new Set(['a', 'c'])
    let middleRev = ''
    for (let step = 0; step < 150; step++) {
      const writes: Write[] = []
      const count = next() < 0.2 ? 3 : 1
      for (const rkey of keys.filter(() => next() < 0.5).slice(0, count)) {
        const text = texts[Math.floor(next() * texts.length)]!
        if (!present.has(rkey)) {
          writes.push({ action: 'create', rkey, text })
          present.add(rkey)
        } else if (next() < 0.5) {
          writes.push({ action: 'update', rkey, text })
        } else {
          writes.push({ action: 'delete', rkey })
          present.delete(rkey)
        }
      }
      if (writes.length === 0) continue
      if (step % 25 === 0) {
        // As after a restart (or COMMITS_PER_TREE_LOAD): the old tree is read back from the
        // store for the next commit's diff.
        await runInDurableObject(stub, (instance: AccountDurableObject) => {
          ;(instance.account as unknown as { mst: unknown }).mst = null
        })
      }
      await apply(stub, writes)
      if (step === 75) middleRev = (await stub.getHead())!.rev
      if (step % 10 === 9) {
        // Sometimes with entries still in the outbox (not archived yet), sometimes without.
        if (step % 20 === 19) await runDurableObjectAlarm(stub)
        await sweep(stub)
      }
      blocks = await blocksOf(stub)
      expectMarkedExactly(blocks)
    }

    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    await sweep(stub)
    blocks = await blocksOf(stub)
    expect(blocks.stored).toEqual(blocks.reachable)
    expect(blocks.marked.size).toBe(0)

    const repo = await verifyRepoCar(await exportBytes(stub), {
      did: account.did,
      signingKey: account.key.did(),
    })
    expect(new Set(repo.records.map((r) => r.rkey))).toEqual(present)
    // A rev whose commit is gone: the whole repo.
    const whole = await readCar(await exportBytes(stub))
    const since = await readCar(await exportBytes(stub, middleRev))
    expect(new Set(since.blocks.keys())).toEqual(new Set(whole.blocks.keys()))
    expect(new Set(whole.blocks.keys())).toEqual(blocks.reachable)
  })

  it('stops waiting for an export stream nobody reads', async () => {
    const { stub } = await createTestAccount()
    // Large enough that the stream is still far from its end after one read.
    for (let batch = 0; batch < 3; batch++) {
      const rkeys = Array.from({ length: 200 }, (_, i) => `b${batch}r${i}`)
      await apply(
        stub,
        rkeys.map((rkey) => ({ action: 'create', rkey, text: rkey })),
      )
    }
    await apply(stub, [{ action: 'delete', rkey: 'b0r0' }])
    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    const outcome = await runInDurableObject(stub, async (instance: AccountDurableObject) => {
      const stream = instance.account.exportRepo(null)!
      const reader = stream.getReader()
      await reader.read()
      const whileRead = (await instance.account.sweepGarbage(0)).deleted
      // The client goes away without cancelling: the stream is not read again.
      const later = Date.now() + EXPORT_IDLE_MS + 1000
      const clock = vi.spyOn(Date, 'now').mockReturnValue(later)
      try {
        const afterIdle = (await instance.account.sweepGarbage(0)).deleted
        const read = await reader.read().then(
          () => 'read',
          (err: Error) => err.message,
        )
        return { whileRead, afterIdle, read }
      } finally {
        clock.mockRestore()
      }
    })
    expect(outcome.whileRead).toBe(0)
    expect(outcome.afterIdle).toBeGreaterThan(0)
    // A late read fails rather than serve a repo whose blocks may be gone.
    expect(outcome.read).toMatch(/idle/)
  })

  it('keeps what an unarchived outbox entry names until R2 has it', async () => {
    const account = await createTestAccount('gcr2')
    const { stub } = account
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    let working: CommitArchive | null = null
    await patchSinks(stub, (sinks) => {
      working = sinks.archive
      const putSegment = async () => {
        throw new Error('injected R2 failure')
      }
      return { archive: { ...sinks.archive, putSegment } }
    })
    await apply(stub, [
      { action: 'create', rkey: 'a', text: 'a' },
      { action: 'create', rkey: 'b', text: 'b' },
    ])
    await apply(stub, [{ action: 'update', rkey: 'a', text: 'a2' }])
    await apply(stub, [{ action: 'delete', rkey: 'b' }])
    await runDurableObjectAlarm(stub)
    await sweep(stub)

    const needed = await runInDurableObject(stub, (_instance, state) => {
      return state.storage.sql
        .exec<{ car_cids: string }>('SELECT car_cids FROM outbox WHERE archived = 0')
        .toArray()
        .flatMap((row) => row.car_cids.split(' '))
    })
    expect(needed.length).toBeGreaterThan(0)
    let blocks = await blocksOf(stub)
    for (const cid of needed) expect(blocks.stored.has(cid), `${cid} kept`).toBe(true)
    expectMarkedExactly(blocks)
    expect(blocks.marked.size).toBeGreaterThan(0)

    // R2 is back (the real sinks, after a reset would do the same): archive, then collect.
    await patchSinks(stub, () => ({ archive: working! }))
    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    expect(await sweep(stub)).toBeGreaterThan(0)
    blocks = await blocksOf(stub)
    expect(blocks.stored).toEqual(blocks.reachable)
  })

  it('keeps a record written again while an older mark of it comes of age', async () => {
    const account = await createTestAccount('gcagain')
    const { stub } = account
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    await apply(stub, [{ action: 'create', rkey: 'c', text: 'again' }])
    await apply(stub, [{ action: 'delete', rkey: 'c' }])
    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    // The record's block is marked (nothing points at it), and R2 now fails: the commit that
    // writes it again stays unarchived, its CAR naming the block, while the old mark is due.
    let working: CommitArchive | null = null
    await patchSinks(stub, (sinks) => {
      working = sinks.archive
      const putSegment = async () => {
        throw new Error('injected R2 failure')
      }
      return { archive: { ...sinks.archive, putSegment } }
    })
    await apply(stub, [{ action: 'create', rkey: 'c', text: 'again' }])
    await apply(stub, [{ action: 'delete', rkey: 'c' }])
    await runDurableObjectAlarm(stub)
    await sweep(stub)
    const needed = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ car_cids: string }>('SELECT car_cids FROM outbox WHERE archived = 0')
        .toArray()
        .flatMap((row) => row.car_cids.split(' ')),
    )
    expect(needed.length).toBeGreaterThan(0)
    let blocks = await blocksOf(stub)
    for (const cid of needed) expect(blocks.stored.has(cid), `${cid} kept`).toBe(true)

    await patchSinks(stub, () => ({ archive: working! }))
    await runDurableObjectAlarm(stub)
    expect(await outboxSize(stub)).toBe(0)
    await sweep(stub)
    blocks = await blocksOf(stub)
    expect(blocks.stored).toEqual(blocks.reachable)
  })

  it('never collects rows stored before records were counted', async () => {
    const { stub } = await createTestAccount('gclegacy')
    await apply(stub, [
      { action: 'create', rkey: 'a', text: 'a' },
      { action: 'create', rkey: 'b', text: 'b' },
      { action: 'create', rkey: 'c', text: 'c' },
    ])
    const before = await blocksOf(stub)
    // An object from before GC: no `refs` column, which the schema adds back as NULL.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('ALTER TABLE block DROP COLUMN refs')
      ensureAccountSchema(state.storage.sql)
      const counted = state.storage.sql
        .exec<{ n: number }>('SELECT count(*) AS n FROM block WHERE refs IS NOT NULL')
        .one().n
      expect(counted).toBe(0)
    })
    await apply(stub, [
      { action: 'delete', rkey: 'a' },
      { action: 'update', rkey: 'b', text: 'b2' },
    ])
    await runDurableObjectAlarm(stub)
    await sweep(stub)
    const after = await blocksOf(stub)
    for (const cid of after.reachable) expect(after.stored.has(cid)).toBe(true)
    // The old records stay; the old commit and nodes go.
    const legacyRecords = [...before.reachable].filter(
      (cid) => !after.reachable.has(cid) && after.stored.has(cid),
    )
    expect(legacyRecords.length).toBe(2)
    expect(after.stored.size).toBe(after.reachable.size + 2)
  })

  it('reports the live blocks in checkAccountStatus', async () => {
    const account = await createXrpcAccount('gcstatus')
    const rkeys: string[] = []
    for (let i = 0; i < 4; i++) {
      const res = await xrpcPost<{ uri: string }>(
        'com.atproto.repo.createRecord',
        {
          repo: account.did,
          collection: POSTS,
          record: { $type: POSTS, text: `post ${i}`, createdAt: new Date().toISOString() },
        },
        account.accessJwt,
      )
      rkeys.push(res.body.uri.split('/').pop()!)
    }
    await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: account.did, collection: POSTS, rkey: rkeys[1] },
      account.accessJwt,
    )
    const stub = accountStub(env, account.did) as unknown as Stub
    const repoBlocks = async () =>
      (await xrpcGet('com.atproto.server.checkAccountStatus', {}, account.accessJwt)).body
        .repoBlocks
    // Marked blocks are not counted, swept or not.
    expect(await repoBlocks()).toBe((await blocksOf(stub)).reachable.size)
    await runDurableObjectAlarm(stub)
    await sweep(stub)
    const blocks = await blocksOf(stub)
    expect(blocks.stored).toEqual(blocks.reachable)
    expect(await repoBlocks()).toBe(blocks.reachable.size)
  })
})
