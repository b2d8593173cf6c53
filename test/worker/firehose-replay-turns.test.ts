/**
 * Replays take turns (src/sequencer/firehose.ts): one loop serves them a slice at a time and
 * yields after each, so an append on the sequencer waits for one slice, not for every
 * replaying socket; at most `maxConcurrentReplays` replay at once while live subscribers keep
 * getting new events.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { FirehoseHub } from '../../src/sequencer/firehose.ts'
import { decodeFrame } from '../../src/sequencer/frame.ts'
import type { SequencerDurableObject } from '../../worker/sequencer-durable-object.ts'
import { fillLog, identityEvents, seqOf, sequencerNamed, subscribe } from './firehose-helpers.ts'

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)

class RecordingSocket {
  readonly sent: Uint8Array[] = []
  bytes = 0
  attachment: unknown = null

  send(message: Uint8Array): void {
    this.sent.push(message)
    this.bytes += message.length
  }

  close(): void {}

  serializeAttachment(value: unknown): void {
    this.attachment = value
  }

  deserializeAttachment(): unknown {
    return this.attachment
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('replay turns', () => {
  it('sends one slice before yielding and keeps at most maxConcurrentReplays going', async () => {
    const stub = sequencerNamed('replay-turns')
    await fillLog(stub, 2000)
    await runInDurableObject(stub, async (instance: SequencerDurableObject) => {
      const slice = 4096
      const hub = new FirehoseHub(instance.log, {
        options: { sliceBytes: slice, pageBytes: 1024, maxConcurrentReplays: 3 },
      })
      // A turn stops at the first page that takes it past the slice: 1 kB of bodies, whose
      // frames (with header and seq) stay under 2 kB.
      const turn = slice + 2048
      const sockets = Array.from({ length: 8 }, () => new RecordingSocket())
      for (const socket of sockets) hub.subscribe(socket, 0)
      const total = () => sockets.reduce((n, s) => n + s.bytes, 0)
      // Eight subscriptions, yet only one slice went out before anything else could run.
      expect(total()).toBeGreaterThan(0)
      expect(total()).toBeLessThanOrEqual(turn)
      let most = 0
      for (let turns = 0; hub.replaying > 0; turns++) {
        expect(turns).toBeLessThan(5000)
        const before = total()
        await tick()
        // Timers run in order: the loop had at most a turn or two while this one waited.
        expect(total() - before).toBeLessThanOrEqual(2 * turn)
        const going = sockets.filter((s) => s.sent.length > 0 && s.sent.length < 2000).length
        most = Math.max(most, going)
        expect(going).toBeLessThanOrEqual(3)
      }
      expect(most).toBe(3)
      for (const socket of sockets) {
        expect(socket.sent.map((f) => seqOf(decodeFrame(f)))).toEqual(range(1, 2000))
        expect(socket.attachment).toEqual({ lastSeq: 2000, live: true })
      }
    })
  })

  it('keeps live subscribers served while a replay waits for its turn, which a close frees', async () => {
    const stub = sequencerNamed('replay-wait-turn')
    await fillLog(stub, 300)
    await runInDurableObject(stub, (instance: SequencerDurableObject) => {
      // One replay at a time, paced to a consumer assumed to read 2 kB a second.
      Object.assign(instance.sequencer.hub.options, {
        maxConcurrentReplays: 1,
        drainBytesPerSecond: 2000,
        replayHighWater: 1000,
        pageEvents: 10,
      })
    })
    const slow = await subscribe(stub, 0)
    await slow.until(() => slow.seqs.length > 0)
    const waiting = await subscribe(stub, 0)
    const live = await subscribe(stub)
    await stub.appendEvents('did:plc:tail', identityEvents('did:plc:tail', 3))
    await live.untilSeq(303)
    expect(live.seqs).toEqual([301, 302, 303])
    expect(waiting.frames).toHaveLength(0)
    expect(slow.seqs.length).toBeLessThan(300)
    slow.close()
    await slow.closed
    // Its turn, at the paced speed: the first frames are enough.
    await waiting.until(() => waiting.seqs.length >= 10, 20_000)
    expect(waiting.seqs.slice(0, 10)).toEqual(range(1, 10))
    waiting.close()
    live.close()
  })
})
