/**
 * The account object's logic (src/account/) outside workerd: the plain classes over Node's
 * SQLite (test/helpers/node-sql-storage.ts) with sinks that record what they are handed. The
 * Durable Object wiring, D1 and the sequencer are covered by the worker tests; these cover
 * commit building, outbox order and marking, and block collection, in milliseconds.
 */
import { describe, expect, it } from 'vitest'
import { Account } from '../../src/account/account.ts'
import { SqlBlockStore } from '../../src/account/block-store.ts'
import { Outbox } from '../../src/account/outbox.ts'
import type { IndexCommit } from '../../src/account/record-index.ts'
import type { AccountSinks } from '../../src/account/sinks.ts'
import { ensureAccountSchema } from '../../src/account/storage-schema.ts'
import type { PreparedWrite } from '../../src/account/types.ts'
import { decryptPrivateKey, encryptPrivateKey } from '../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { decodeCbor, encodeCborBlock } from '../../src/data/cbor.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import type { AppendEvent } from '../../src/sequencer/event-log.ts'
import { nextTid } from '../../src/syntax/index.ts'
import { NodeSqlStorage } from '../helpers/node-sql-storage.ts'
import { commitEntry } from '../helpers/outbox-entry.ts'

const SECRET = 'unit-test-secret'
const DID = 'did:plc:unitaccountobject0000000'

type Recorded = { indexed: IndexCommit[]; events: AppendEvent[]; archived: string[] }

function recordingSinks(): { sinks: AccountSinks; seen: Recorded } {
  const seen: Recorded = { indexed: [], events: [], archived: [] }
  const sinks: AccountSinks = {
    index: {
      applyCommits: async (_did, commits) => {
        seen.indexed.push(...commits)
        return null
      },
      deleteRepo: async () => {},
      pruneBefore: async () => {},
    },
    sequencer: {
      appendEvents: async (_did, events) => {
        seen.events.push(...events)
        return events.length
      },
    },
    archive: {
      putSegment: async (key) => {
        seen.archived.push(key)
      },
      deleteRepo: async () => {},
      deleteBefore: async () => {},
    },
  }
  return { sinks, seen }
}

async function newAccount() {
  const storage = new NodeSqlStorage()
  const { sinks, seen } = recordingSinks()
  const alarms: number[] = []
  const account = new Account({
    storage,
    sinks,
    setAlarm: (at) => alarms.push(at),
    wipe: async () => {},
    decryptSigningKey: (encrypted, did) => decryptPrivateKey(encrypted, SECRET, did),
  })
  const key = await Secp256k1Keypair.create()
  await account.createRepo({
    did: DID,
    handle: 'unit.test',
    signingKey: await encryptPrivateKey(key.exportPrivateKey(), SECRET, DID),
  })
  return { storage, account, seen, alarms, key }
}

async function post(text: string, rkey = nextTid()): Promise<PreparedWrite> {
  const block = await encodeCborBlock({
    $type: 'app.bsky.feed.post',
    text,
    createdAt: '2024-01-01T00:00:00.000Z',
  })
  const collection = 'app.bsky.feed.post'
  return { action: 'create', collection, rkey, record: block.bytes, cid: block.cid.toString() }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

describe('account commits', () => {
  it('builds signed commits whose repo verifies, and delivers index and events in order', async () => {
    const { account, seen, key } = await newAccount()
    const first = await account.applyWrites({ writes: [await post('one', 'a1')] })
    const second = await account.applyWrites({ writes: [await post('two', 'a2')] })
    expect(second.commit.rev > first.commit.rev).toBe(true)
    expect(second.indexed).toBe(true)
    expect(account.getHead()).toEqual(second.commit)

    const car = await readAll(account.exportRepo(null)!)
    const repo = await verifyRepoCar(car, { did: DID, signingKey: key.did() })
    expect(repo.commitCid.toString()).toBe(second.commit.cid)
    expect(repo.records.map((r) => r.rkey)).toEqual(['a1', 'a2'])

    // Genesis (#identity, #account, #commit, #sync), then one #commit per write, in order.
    expect(seen.events.map((e) => e.type)).toEqual([
      '#identity',
      '#account',
      '#commit',
      '#sync',
      '#commit',
      '#commit',
    ])
    const ids = seen.events.map((e) => e.outboxId)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(seen.indexed.map((c) => c.rev)).toEqual([
      expect.any(String),
      first.commit.rev,
      second.commit.rev,
    ])
    expect(seen.indexed[2]!.upserts).toEqual([
      expect.objectContaining({ collection: 'app.bsky.feed.post', rkey: 'a2' }),
    ])
  })

  it('refuses a stale swapCommit and a create over an existing record, changing nothing', async () => {
    const { account } = await newAccount()
    const { commit } = await account.applyWrites({ writes: [await post('one', 'same')] })
    await account.applyWrites({ writes: [await post('two')] })
    await expect(
      account.applyWrites({ writes: [await post('three')], swapCommit: commit.cid }),
    ).rejects.toMatchObject({ xrpcError: 'InvalidSwap' })
    const head = account.getHead()
    await expect(account.applyWrites({ writes: [await post('again', 'same')] })).rejects.toThrow()
    expect(account.getHead()).toEqual(head)
  })
})

describe('account outbox', () => {
  it('hands out entries oldest first and deletes a row once all three destinations have it', async () => {
    const storage = new NodeSqlStorage()
    ensureAccountSchema(storage.sql)
    const store = new SqlBlockStore(storage.sql)
    const outbox = new Outbox(storage.sql, store)
    for (const [id, rev] of [
      [10, '3aaaaaaaaaa2a'],
      [11, '3aaaaaaaaaa3a'],
      [12, '3aaaaaaaaaa4a'],
    ] as const) {
      const { entry, blocks } = await commitEntry(`post ${id}`, rev)
      storage.transactionSync(() => {
        store.putSync(blocks, rev, 0)
        outbox.appendSync(id, entry, '2024-01-01T00:00:00.000Z')
      })
    }
    expect(outbox.pendingDelivery(10).map((r) => r.id)).toEqual([10, 11, 12])
    expect(outbox.firstId()).toBe(10)

    // D1 has 10 and 11, the event log only 10: 11 still waits for the sequencer.
    outbox.markDelivered([10, 11], [10])
    expect(outbox.isDelivered(10)).toBe(true)
    expect(outbox.isDelivered(11)).toBe(false)
    expect(outbox.pendingDelivery(10).map((r) => r.id)).toEqual([11, 12])
    expect(outbox.pendingArchive(10).map((r) => r.id)).toEqual([10, 11, 12])

    // Rebuilt from the row: the event carries the CAR of the commit's blocks.
    const row = outbox.pendingArchive(1)[0]!
    const event = await outbox.eventOf(row)
    const body = decodeCbor<{ blocks: Uint8Array; rev: string }>(event.body)
    expect(body.rev).toBe('3aaaaaaaaaa2a')
    expect(body.blocks).toEqual(await outbox.carOf(row))
    expect(outbox.indexOf(row).upserts.map((u) => u.rkey)).toEqual(['3aaaaaaaaaa2a'])

    outbox.markArchived([10])
    expect(outbox.firstId()).toBe(11)
    outbox.markDelivered([12], [11, 12])
    outbox.markArchived([11, 12])
    expect(outbox.isEmpty()).toBe(true)
  })
})

describe('account outbox groups', () => {
  it("sends one commit point's entries in one sequencer call, even past a round's size", async () => {
    const { account } = await newAccount()
    const real = account.sinks
    const calls: AppendEvent[][] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    account.sinks = {
      ...real,
      sequencer: {
        appendEvents: async (did, events) => {
          calls.push(events)
          await gate
          return real.sequencer.appendEvents(did, events)
        },
      },
    }
    // The deactivation's delivery is held while 98 identity changes and the activation
    // (#account, #identity, #sync) commit: 101 entries wait, one more than a round takes.
    const deactivated = account.setStatus({ active: false, status: 'deactivated' })
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    const identities = Array.from({ length: 98 }, () => account.emitIdentity({}))
    const activated = account.setStatus({ active: true })
    while (!account.getStatus()?.active) await new Promise((resolve) => setTimeout(resolve, 1))
    release()
    await Promise.all([deactivated, ...identities, activated])

    expect(calls.map((events) => events.length)).toEqual([1, 101])
    const last = calls[1]!.slice(-3)
    expect(last.map((e) => e.type)).toEqual(['#account', '#identity', '#sync'])
    expect(decodeCbor(last[0]!.body)).toMatchObject({ active: true })
    expect(last.map((e) => e.outboxId - last[0]!.outboxId)).toEqual([0, 1, 2])
  })

  it('pendingDelivery completes the group of the last entry it hands out', () => {
    const storage = new NodeSqlStorage()
    ensureAccountSchema(storage.sql)
    const outbox = new Outbox(storage.sql, new SqlBlockStore(storage.sql))
    const event = (id: number) => ({
      event: { type: '#identity' as const, body: { did: DID, time: `${id}` } },
    })
    storage.transactionSync(() => {
      outbox.appendSync(1, event(1), '2024-01-01T00:00:00.000Z')
      for (const id of [2, 3, 4]) outbox.appendSync(id, event(id), '2024-01-01T00:00:00.000Z', 4)
      outbox.appendSync(5, event(5), '2024-01-01T00:00:00.000Z')
    })
    expect(outbox.pendingDelivery(1).map((r) => r.id)).toEqual([1])
    expect(outbox.pendingDelivery(2).map((r) => r.id)).toEqual([1, 2, 3, 4])
    expect(outbox.pendingDelivery(4).map((r) => r.id)).toEqual([1, 2, 3, 4])
    expect(outbox.pendingDelivery(5).map((r) => r.id)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('account block collection', () => {
  it('marks what an update lets go of and sweeps it once nothing may read it', async () => {
    const { account } = await newAccount()
    const first = await account.applyWrites({ writes: [await post('v1', 'k')] })
    const oldRecord = (await post('v1', 'k')).cid!
    const v2 = await encodeCborBlock({
      $type: 'app.bsky.feed.post',
      text: 'v2',
      createdAt: '2024-01-01T00:00:00.000Z',
    })
    const second = await account.applyWrites({
      writes: [
        {
          action: 'update',
          collection: 'app.bsky.feed.post',
          rkey: 'k',
          record: v2.bytes,
          cid: v2.cid.toString(),
        },
      ],
    })
    const pending = account.pendingGarbage()
    expect(pending.has(first.commit.cid)).toBe(true)
    expect(pending.has(oldRecord)).toBe(true)
    expect(pending.has(second.commit.cid)).toBe(false)
    const live = account.liveBlockCount()!

    // Archived, so no outbox entry names the old blocks any more; the grace period still holds.
    await account.runAlarm()
    expect(account.pendingGarbage()).toEqual(pending)

    // Not while an export may still read them.
    const stream = account.exportRepo(null)!
    expect((await account.sweepGarbage(-1)).deleted).toBe(0)
    await readAll(stream)

    const swept = await account.sweepGarbage(-1)
    expect(swept.deleted).toBe(pending.size)
    expect(account.getBlock(first.commit.cid)).toBeNull()
    expect(account.getBlock(oldRecord)).toBeNull()
    expect(account.getBlock(second.commit.cid)).not.toBeNull()
    expect(account.getBlock(v2.cid.toString())).not.toBeNull()
    expect(account.liveBlockCount()).toBe(live)
    expect(account.pendingGarbage().size).toBe(0)
  })
})
