/**
 * Failures between the commit point and the derived stores. Faults are injected by replacing
 * `Account.sinks` on the live object (patchSinks, through runInDurableObject); a reset of the
 * object brings back the real sinks.
 */
import {
  abortAllDurableObjects,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest'
import { ARCHIVE_MAX_WAIT_MS } from '../../src/account/alarm.ts'
import { DELIVERY_DEADLINE_MS } from '../../src/account/drain.ts'
import { accountStub } from '../../src/bindings.ts'
import { parseCommit } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import {
  archivedCommit,
  type CommitState,
  checkCommitEvent,
  createTestAccount,
  eventsOf,
  mstContents,
  ok,
  outboxSize,
  patchSinks,
  post,
  recordRows,
  repoRoot,
  runAlarmUntilIdle,
  type TestAccount,
} from './account-helpers.ts'

const POSTS = 'app.bsky.feed.post'

function failing(times: number, what: string): () => void {
  let left = times
  return () => {
    if (left > 0) {
      left--
      throw new Error(`injected ${what} failure`)
    }
  }
}

async function write(account: TestAccount, rkey: string) {
  return ok(
    await account.stub.applyWrites({
      writes: [{ action: 'create', collection: POSTS, rkey, record: post(rkey) }],
    }),
  )
}

/** Everything derived from the repo matches its head, and the chain of events verifies. */
async function expectConverged(account: TestAccount, commits: number): Promise<void> {
  const { stub, did } = account
  const head = (await stub.getHead())!
  expect(await repoRoot(did)).toEqual(head)
  const contents = await mstContents(stub)
  const rows = await recordRows(did)
  expect(new Map(rows.map((r) => [`${r.collection}/${r.rkey}`, r.cid]))).toEqual(contents)
  const events = (await eventsOf(did)).filter((e) => e.type === '#commit')
  expect(events.length).toBe(commits)
  let state: CommitState = { rev: null, data: null }
  for (const event of events) state = await checkCommitEvent(event.body, account, state)
  expect(state.rev).toBe(head.rev)
  for (const event of events) {
    expect(await archivedCommit(did, event.body.rev as string)).not.toBeNull()
  }
  expect(await outboxSize(stub)).toBe(0)
  await expectHeadComplete(account)
}

/** The delivery flags the outbox row of commit `rev` holds in storage (not those in memory). */
function storedDeliveryFlags(
  account: TestAccount,
  rev: string,
): Promise<{ indexed: number; sequenced: number }[]> {
  return runInDurableObject(account.stub, (_instance, state) =>
    state.storage.sql
      .exec<{ indexed: number; sequenced: number }>(
        'SELECT indexed, sequenced FROM outbox WHERE rev = ?',
        rev,
      )
      .toArray(),
  )
}

/** The head's commit and every node of its tree are in the object's storage. */
async function expectHeadComplete(account: TestAccount): Promise<void> {
  await runInDurableObject(account.stub, async (instance: AccountDurableObject) => {
    const head = instance.account.getHead()!
    const commit = parseCommit(instance.account.getBlock(head.cid)!)
    let nodes = 0
    for await (const _ of Mst.load(instance.account.blocks, commit.data).walkBlocks()) nodes++
    expect(nodes).toBeGreaterThan(0)
  })
}

/**
 * Polls a flag the object sets: a promise resolved from inside the object would resume the
 * test in the object's I/O context, where the test's stubs cannot be used.
 */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(condition()).toBe(true)
}

describe('account outbox: faults', () => {
  let warnings: MockInstance<typeof console.warn>
  beforeEach(() => {
    warnings = vi.spyOn(console, 'warn').mockImplementation(() => {})
  })
  afterEach(() => {
    warnings.mockRestore()
  })

  function warned(text: string): boolean {
    return warnings.mock.calls.some((call) => String(call[0]).includes(text))
  }

  /** D1 fails `times` times, then works: the write is answered once indexed, in time. */
  async function indexFailingThenWorking(times: number): Promise<void> {
    const account = await createTestAccount()
    await patchSinks(account.stub, (sinks) => {
      const fail = failing(times, 'D1')
      return {
        index: {
          ...sinks.index,
          applyCommits: async (did, commits) => {
            fail()
            return sinks.index.applyCommits(did, commits)
          },
        },
      }
    })
    const written = await write(account, 'a')
    expect(written.indexed).toBe(true)
    expect(warned('D1 index update failed')).toBe(true)
    expect((await recordRows(account.did)).map((r) => r.rkey)).toEqual(['a'])
    await runAlarmUntilIdle(account)
    await expectConverged(account, 2)
  }

  it('retries a D1 failure within the request', () => indexFailingThenWorking(1))

  // Three failed rounds, well within the deadline: `indexed` says what happened, not how
  // often it failed.
  it('keeps retrying until its deadline before it answers indexed: false', () =>
    indexFailingThenWorking(3))

  it('acknowledges a durable write while D1 is down, and converges by alarm', async () => {
    const account = await createTestAccount()
    let d1Down = true
    await patchSinks(account.stub, (sinks) => ({
      index: {
        ...sinks.index,
        applyCommits: async (did, commits) => {
          if (d1Down) throw new Error('injected D1 outage')
          return sinks.index.applyCommits(did, commits)
        },
      },
    }))
    const first = await write(account, 'a')
    const second = await write(account, 'b')
    expect(first.indexed).toBe(false)
    expect(second.indexed).toBe(false)
    // Committed: the head moved and the events went out; only the index lags.
    expect(await account.stub.getHead()).toEqual(second.commit)
    expect(await recordRows(account.did)).toEqual([])
    expect((await eventsOf(account.did)).filter((e) => e.type === '#commit').length).toBe(3)
    const alarm = await runInDurableObject(account.stub, (_i, state) => state.storage.getAlarm())
    expect(alarm).not.toBeNull()

    // Still down: the alarm fails and schedules itself again.
    expect(await runDurableObjectAlarm(account.stub)).toBe(true)
    expect(await recordRows(account.did)).toEqual([])
    expect(
      await runInDurableObject(account.stub, (_i, state) => state.storage.getAlarm()),
    ).not.toBeNull()

    d1Down = false
    expect(await runAlarmUntilIdle(account)).toBeGreaterThan(0)
    expect((await recordRows(account.did)).map((r) => r.rkey)).toEqual(['a', 'b'])
    await expectConverged(account, 3)
  })

  it('splits a backlog of large commits into bounded D1 batches', async () => {
    const account = await createTestAccount()
    let d1Down = true
    const batches: number[] = []
    await patchSinks(account.stub, (sinks) => ({
      index: {
        ...sinks.index,
        applyCommits: async (did, commits) => {
          if (d1Down) throw new Error('injected D1 outage')
          batches.push(commits.reduce((n, c) => n + c.upserts.length + c.deletes.length + 1, 0))
          return sinks.index.applyCommits(did, commits)
        },
      },
    }))
    for (let batch = 0; batch < 4; batch++) {
      const written = ok(
        await account.stub.applyWrites({
          writes: Array.from({ length: 200 }, (_, i) => ({
            action: 'create' as const,
            collection: POSTS,
            rkey: `b${batch}r${i}`,
            record: post(`${batch}/${i}`),
          })),
        }),
      )
      expect(written.indexed).toBe(false)
    }
    d1Down = false
    await runAlarmUntilIdle(account)
    // 4 × 201 statements, in rounds of at most 500 (plus the commit that crosses the line).
    expect(batches.reduce((a, b) => a + b, 0)).toBe(4 * 201)
    expect(batches.length).toBeGreaterThan(1)
    expect(Math.max(...batches)).toBeLessThanOrEqual(500 + 201)
    expect((await recordRows(account.did)).length).toBe(800)
    await expectConverged(account, 5)
  })

  it('delivers an event exactly once when the sequencer answer is lost', async () => {
    const account = await createTestAccount()
    await patchSinks(account.stub, (sinks) => {
      const fail = failing(1, 'sequencer answer')
      return {
        sequencer: {
          appendEvents: async (did, events) => {
            const seq = await sinks.sequencer.appendEvents(did, events)
            fail()
            return seq
          },
        },
      }
    })
    expect((await write(account, 'a')).indexed).toBe(true)
    expect(warned('sequencer append failed')).toBe(true)
    await runAlarmUntilIdle(account)
    await expectConverged(account, 2)
  })

  it('keeps events in order when the sequencer is down for a while', async () => {
    const account = await createTestAccount()
    let down = true
    await patchSinks(account.stub, (sinks) => ({
      sequencer: {
        appendEvents: async (did, events) => {
          if (down) throw new Error('injected sequencer outage')
          return sinks.sequencer.appendEvents(did, events)
        },
      },
    }))
    const first = await write(account, 'a')
    expect(first.indexed).toBe(false)
    // The index does not wait for the event log.
    expect((await recordRows(account.did)).map((r) => r.rkey)).toEqual(['a'])
    down = false
    const second = await write(account, 'b')
    expect(second.indexed).toBe(true)
    const revs = (await eventsOf(account.did))
      .filter((e) => e.type === '#commit')
      .map((e) => e.body.rev)
    expect(revs.slice(1)).toEqual([first.commit.rev, second.commit.rev])
    await runAlarmUntilIdle(account)
    await expectConverged(account, 3)
  })

  it('answers a durable write by its deadline while the sequencer is slow', async () => {
    const account = await createTestAccount()
    await patchSinks(account.stub, (sinks) => ({
      sequencer: {
        appendEvents: async (did, events) => {
          await new Promise((resolve) => setTimeout(resolve, DELIVERY_DEADLINE_MS + 2000))
          return sinks.sequencer.appendEvents(did, events)
        },
      },
    }))
    const started = Date.now()
    const written = await write(account, 'slow')
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(DELIVERY_DEADLINE_MS - 50)
    expect(took).toBeLessThan(DELIVERY_DEADLINE_MS + 1500)
    // Durable and answered; the index, which is not slow, has it already.
    expect(written.indexed).toBe(false)
    expect(await account.stub.getHead()).toEqual(written.commit)
    expect((await recordRows(account.did)).map((r) => r.rkey)).toEqual(['slow'])
    // The slow call still lands, and the alarm finishes the rest.
    await runAlarmUntilIdle(account)
    await expectConverged(account, 2)
  })

  it('archives to R2 by alarm after an R2 failure', async () => {
    const account = await createTestAccount()
    await runAlarmUntilIdle(account)
    await patchSinks(account.stub, (sinks) => {
      const fail = failing(1, 'R2')
      return {
        archive: {
          ...sinks.archive,
          putSegment: async (key, bytes) => {
            fail()
            return sinks.archive.putSegment(key, bytes)
          },
        },
      }
    })
    const written = await write(account, 'a')
    expect(written.indexed).toBe(true)
    // Archiving is left to the alarm, set to run once one commit has waited for company.
    const alarm = await runInDurableObject(account.stub, (_i, state) => state.storage.getAlarm())
    expect(alarm).not.toBeNull()
    expect(alarm! - Date.now()).toBeLessThanOrEqual(ARCHIVE_MAX_WAIT_MS)
    expect(await runDurableObjectAlarm(account.stub)).toBe(true)
    expect(warned('R2 archive failed')).toBe(true)
    expect(await archivedCommit(account.did, written.commit.rev)).toBeNull()
    expect(await outboxSize(account.stub)).toBe(1)
    await runAlarmUntilIdle(account)
    expect(await archivedCommit(account.did, written.commit.rev)).not.toBeNull()
    await expectConverged(account, 2)
  })

  it('recovers when the object is reset between the commit point and delivery', async () => {
    const account = await createTestAccount()
    const acknowledged = await write(account, 'before')
    await runAlarmUntilIdle(account)
    const reached = { delivery: false }
    await patchSinks(account.stub, () => ({
      index: {
        applyCommits: () => {
          reached.delivery = true
          return new Promise<string | null>(() => {})
        },
        deleteRepo: async () => {},
        pruneBefore: async () => {},
      },
    }))
    const pending = account.stub
      .applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'during', record: post('x') }],
      })
      .then(
        () => 'answered',
        () => 'failed',
      )
    await until(() => reached.delivery)
    expect(await outboxSize(account.stub)).toBe(1)
    await abortAllDurableObjects()
    expect(await pending).toBe('failed')

    // A fresh instance: the commit is durable, and the alarm set at start delivers it.
    const stub = accountStub(env, account.did)
    const restarted = { ...account, stub }
    const head = (await stub.getHead())!
    expect(head.rev > acknowledged.commit.rev).toBe(true)
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull()
    await runAlarmUntilIdle(restarted)
    expect([...(await mstContents(stub)).keys()]).toEqual([`${POSTS}/before`, `${POSTS}/during`])
    await expectConverged(restarted, 3)
    // Writes go on from the recovered head.
    const after = await write(restarted, 'after')
    expect(after.indexed).toBe(true)
    await runAlarmUntilIdle(restarted)
    await expectConverged(restarted, 4)
  })

  it('delivers again, without a duplicate event, when reset before its delivery marks are written', async () => {
    const account = await createTestAccount()
    await runAlarmUntilIdle(account)
    const written = await write(account, 'x')
    expect(written.indexed).toBe(true)
    // Answered, and the marks are still only in memory: the answer waited for no storage
    // write of its own after the deliveries.
    const flags = await storedDeliveryFlags(account, written.commit.rev)
    expect(flags).toEqual([{ indexed: 0, sequenced: 0 }])
    await abortAllDurableObjects()

    // The fresh instance delivers the entry again: D1 keeps one row, the log one event.
    const restarted = { ...account, stub: accountStub(env, account.did) }
    await runAlarmUntilIdle(restarted)
    await expectConverged(restarted, 2)
    const next = await write(restarted, 'y')
    expect(next.indexed).toBe(true)
    await runAlarmUntilIdle(restarted)
    await expectConverged(restarted, 3)
  })

  it('writes the delivery marks with the next commit', async () => {
    const account = await createTestAccount()
    const first = await write(account, 'a')
    await write(account, 'b')
    const flags = await storedDeliveryFlags(account, first.commit.rev)
    expect(flags).toEqual([{ indexed: 1, sequenced: 1 }])
  })

  it('recovers when the object is reset after D1 but before the event log', async () => {
    const account = await createTestAccount()
    const reached = { sequencer: false }
    await patchSinks(account.stub, () => ({
      sequencer: {
        appendEvents: () => {
          reached.sequencer = true
          return new Promise<number>(() => {})
        },
      },
    }))
    const pending = write(account, 'x').then(
      () => 'answered',
      () => 'failed',
    )
    await until(() => reached.sequencer)
    await abortAllDurableObjects()
    expect(await pending).toBe('failed')
    const restarted = { ...account, stub: accountStub(env, account.did) }
    await runAlarmUntilIdle(restarted)
    await expectConverged(restarted, 2)
  })
})
