import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import { encodeEventFrame } from '../../src/sequencer/frame.ts'
import type { SequencerDurableObject } from '../../worker/sequencer-durable-object.ts'

function sequencer(name: string): DurableObjectStub<SequencerDurableObject> {
  return env.SEQUENCER.get(env.SEQUENCER.idFromName(name))
}

const body = (value: Record<string, unknown>) => encodeCbor(value)

describe('sequencer event log', () => {
  it('assigns increasing seqs and drops retried deliveries', async () => {
    const log = sequencer('test-dedup')
    expect(await log.latestSeq()).toBe(0)
    expect(await log.getEvents({ after: 0, limit: 10 })).toEqual([])
    const alice = 'did:plc:alice'
    const bob = 'did:plc:bob'
    expect(
      await log.appendEvents(alice, [
        { outboxId: 1, type: '#identity', body: body({ did: alice, time: 't' }) },
        { outboxId: 2, type: '#account', body: body({ did: alice, active: true, time: 't' }) },
      ]),
    ).toBe(2)
    expect(
      await log.appendEvents(bob, [
        { outboxId: 1, type: '#identity', body: body({ did: bob, time: 't' }) },
      ]),
    ).toBe(3)
    // A retry of 1-2 plus a new event 3: only 3 is appended.
    expect(
      await log.appendEvents(alice, [
        { outboxId: 1, type: '#identity', body: body({ did: alice, time: 't' }) },
        { outboxId: 2, type: '#account', body: body({ did: alice, active: true, time: 't' }) },
        { outboxId: 3, type: '#sync', body: body({ did: alice, rev: 'r', time: 't' }) },
      ]),
    ).toBe(4)
    // A retry of events already stored returns the latest seq and stores nothing.
    expect(
      await log.appendEvents(alice, [{ outboxId: 3, type: '#sync', body: body({ did: alice }) }]),
    ).toBe(4)
    expect(await log.latestSeq()).toBe(4)
    const events = await log.getEvents({ after: 0, limit: 100 })
    expect(events.map((e) => [e.seq, e.did, e.type])).toEqual([
      [1, alice, '#identity'],
      [2, alice, '#account'],
      [3, bob, '#identity'],
      [4, alice, '#sync'],
    ])
    expect(events.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true)
    expect((await log.getEvents({ after: 2, limit: 1 })).map((e) => e.seq)).toEqual([3])
    expect(await log.getEvents({ after: 4, limit: 10 })).toEqual([])
  })

  it('moves the next seq above a floor, only forward, on an empty log or a used one', async () => {
    const log = sequencer('test-advance')
    const alice = 'did:plc:alice'
    // Empty log: no sqlite_sequence row yet.
    expect(await log.advanceSeq(500)).toBe(500)
    expect(await log.latestSeq()).toBe(500)
    expect(
      await log.appendEvents(alice, [
        { outboxId: 1, type: '#identity', body: body({ did: alice, time: 't' }) },
      ]),
    ).toBe(501)
    // Never backwards.
    expect(await log.advanceSeq(10)).toBe(501)
    expect(await log.advanceSeq(501)).toBe(501)
    expect(await log.advanceSeq(9000)).toBe(9000)
    expect(
      await log.appendEvents(alice, [
        { outboxId: 2, type: '#sync', body: body({ did: alice, rev: 'r', time: 't' }) },
      ]),
    ).toBe(9001)
    expect((await log.getEvents({ after: 0, limit: 10 })).map((e) => e.seq)).toEqual([501, 9001])
    await runInDurableObject(log, (instance: SequencerDurableObject) => {
      // A relay's cursor up to the new latest seq is served, not refused as FutureCursor.
      expect(instance.sequencer.hub.refusalFor(9001)).toBeNull()
      expect(instance.sequencer.hub.refusalFor(9002)?.error).toBe('FutureCursor')
      expect(() => instance.log.advanceSeq(-1)).toThrow(/bad seq/)
      expect(() => instance.log.advanceSeq(1.5)).toThrow(/bad seq/)
    })
  })

  it('refuses malformed events without storing any of the batch', async () => {
    const log = sequencer('test-invalid')
    // Called in the object: an RPC rejection in the test's own isolate counts as unhandled.
    await runInDurableObject(log, (instance: SequencerDurableObject) => {
      expect(() =>
        instance.log.append('did:plc:x', [
          { outboxId: 1, type: '#identity', body: body({}) },
          // biome-ignore lint/suspicious/noExplicitAny: a type the log must refuse
          { outboxId: 2, type: '#handle' as any, body: body({}) },
        ]),
      ).toThrow(/unknown event type/)
      expect(() =>
        instance.log.append('did:plc:x', [{ outboxId: 0, type: '#identity', body: body({}) }]),
      ).toThrow(/outbox id/)
    })
    expect(await log.latestSeq()).toBe(0)
  })

  it('keeps bodies over the inline limit whole', async () => {
    const log = sequencer('test-large')
    const big = body({ did: 'did:plc:big', blocks: new Uint8Array(2_300_000).fill(7), time: 't' })
    expect(big.length).toBeGreaterThan(2_000_000)
    await log.appendEvents('did:plc:big', [{ outboxId: 1, type: '#sync', body: big }])
    const [event] = await log.getEvents({ after: 0, limit: 1 })
    expect(event!.body).toEqual(big)
    const parts = await runInDurableObject(
      log,
      (_i, state) =>
        state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM event_part').one().n,
    )
    expect(parts).toBe(2)
  })

  it("drops a deleted account's events but its last, large bodies' parts included", async () => {
    const log = sequencer('test-purge')
    const gone = 'did:plc:gone'
    const stays = 'did:plc:stays'
    const big = body({ did: gone, blocks: new Uint8Array(1_500_000).fill(1), time: 't' })
    await log.appendEvents(gone, [{ outboxId: 1, type: '#sync', body: big }])
    await log.appendEvents(stays, [{ outboxId: 1, type: '#identity', body: body({ did: stays }) }])
    await log.appendEvents(gone, [
      { outboxId: 2, type: '#identity', body: body({ did: gone }) },
      {
        outboxId: 3,
        type: '#account',
        body: body({ did: gone, active: false, status: 'deleted' }),
      },
    ])
    expect(await log.purgeAccount(gone)).toBe(2)
    expect(await log.purgeAccount(gone)).toBe(0)
    expect(await log.purgeAccount('did:plc:unknown')).toBe(0)
    const events = await log.getEvents({ after: 0, limit: 10 })
    expect(events.map((e) => [e.seq, e.did, e.type])).toEqual([
      [2, stays, '#identity'],
      [4, gone, '#account'],
    ])
    const parts = await runInDurableObject(
      log,
      (_i, state) =>
        state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM event_part').one().n,
    )
    expect(parts).toBe(0)
  })

  it('produces subscribeRepos frames from stored events', async () => {
    const log = sequencer('test-frame')
    const did = 'did:plc:frame'
    await log.appendEvents(did, [
      {
        outboxId: 7,
        type: '#account',
        body: body({ did, active: false, status: 'deactivated', time: 't' }),
      },
    ])
    const [event] = await log.getEvents({ after: 0, limit: 1 })
    const frame = encodeEventFrame(event!)
    // The frame is two concatenated DAG-CBOR values: the header, then the body with seq.
    const header = encodeCbor({ op: 1, t: '#account' })
    expect(frame.subarray(0, header.length)).toEqual(header)
    expect(decodeCbor(frame.subarray(header.length))).toEqual({
      did,
      active: false,
      status: 'deactivated',
      time: 't',
      seq: 1,
    })
  })
})
