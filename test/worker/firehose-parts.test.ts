/**
 * The pieces around the stream: frames (seq spliced into stored bodies, checked against the
 * reference PDS's captured frames), crawl requests to relays (sequencer throttle, Cron
 * Trigger slots), and retention pruning in batches.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import { CID } from '../../src/data/cid.ts'
import { jsonToIpld } from '../../src/data/json.ts'
import {
  bodyWithSeq,
  decodeFrame,
  encodeErrorFrame,
  encodeEventFrame,
  encodeInfoFrame,
} from '../../src/sequencer/frame.ts'
import { Sequencer } from '../../src/sequencer/sequencer.ts'
import { isCrawlRefreshRun } from '../../src/sync/crawl-job.ts'
import { requestCrawl } from '../../src/sync/request-crawl.ts'
import type { SequencerDurableObject } from '../../worker/sequencer-durable-object.ts'
import reference from '../fixtures/reference-pds/frames.json'
import { fillLog, identityEvents, sequencerNamed } from './firehose-helpers.ts'

type ReferenceFrame = {
  seq: number
  size: number
  header: { op: number; t: string }
  body: Record<string, unknown>
}

describe('frames', () => {
  it('rebuilds every captured reference frame byte for byte from a body without seq', () => {
    const frames = (reference as { frames: ReferenceFrame[] }).frames
    expect(frames.length).toBe(26)
    for (const captured of frames) {
      const full = jsonToIpld(captured.body) as Record<string, unknown>
      const { seq, ...stored } = full
      const frame = encodeEventFrame({
        seq: seq as number,
        type: captured.header.t as '#commit',
        body: encodeCbor(stored),
      })
      const expected = new Uint8Array([...encodeCbor(captured.header), ...encodeCbor(full)])
      expect(frame.length).toBe(captured.size)
      expect(Array.from(frame)).toEqual(Array.from(expected))
      expect(decodeFrame(frame).body.seq).toBe(captured.seq)
    }
  })

  it('puts seq where a full re-encoding would, for any keys and seq sizes', () => {
    const cid = CID.parse('bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm')
    const bodies: Record<string, unknown>[] = [
      {},
      { a: 1 },
      { zzzz: 'x', sea: 1, sep: [1, { seq: 'nested' }], did: 'd' },
      { rev: 'r', repo: 'x', ops: [{ cid, path: 'a/b', prev: cid }], blocks: new Uint8Array(300) },
      { name: 'OutdatedCursor', message: 'm'.repeat(70_000) },
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i - 15])),
    ]
    for (const body of bodies) {
      for (const seq of [
        0,
        1,
        23,
        24,
        255,
        256,
        65_535,
        65_536,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53 - 1,
      ]) {
        // (Compared as plain arrays: the encoder may hand back a Buffer.)
        expect(Array.from(bodyWithSeq(encodeCbor(body), seq))).toEqual(
          Array.from(encodeCbor({ ...body, seq })),
        )
      }
    }
    // A body that already has a seq gets it replaced, not duplicated.
    expect(decodeCbor(bodyWithSeq(encodeCbor({ seq: 5, did: 'x' }), 9))).toEqual({
      seq: 9,
      did: 'x',
    })
  })

  it('encodes #info and error frames', () => {
    expect(decodeFrame(encodeInfoFrame('OutdatedCursor', 'old'))).toEqual({
      header: { op: 1, t: '#info' },
      body: { name: 'OutdatedCursor', message: 'old' },
    })
    expect(decodeFrame(encodeErrorFrame('FutureCursor'))).toEqual({
      header: { op: -1 },
      body: { error: 'FutureCursor' },
    })
  })
})

describe('crawl requests', () => {
  it('POSTs our hostname to each relay, by hostname or origin', async () => {
    const calls: { url: string; body: unknown }[] = []
    const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      calls.push({ url, body: JSON.parse(String(init?.body)) })
      if (url.includes('down')) throw new Error('connection refused')
      return new Response(null, { status: url.includes('banned') ? 400 : 200 })
    }) as typeof fetch
    const crawlers = [
      'bsky.network',
      'http://127.0.0.1:9000/',
      'https://relay.example',
      'down.example',
      'banned.example',
    ]
    // Dev mode: a loopback relay is allowed (a local one, in tests and under npm run dev).
    const outcomes = await requestCrawl(
      { hostname: 'pds.example.com', crawlers, devMode: true },
      fakeFetch,
    )
    expect(calls.map((c) => c.url)).toEqual([
      'https://bsky.network/xrpc/com.atproto.sync.requestCrawl',
      'http://127.0.0.1:9000/xrpc/com.atproto.sync.requestCrawl',
      'https://relay.example/xrpc/com.atproto.sync.requestCrawl',
      'https://down.example/xrpc/com.atproto.sync.requestCrawl',
      'https://banned.example/xrpc/com.atproto.sync.requestCrawl',
    ])
    expect(
      calls.every((c) => (c.body as { hostname: string }).hostname === 'pds.example.com'),
    ).toBe(true)
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, false])
  })

  it('refuses a loopback or private relay outside dev mode, without calling it', async () => {
    const calls: string[] = []
    const fakeFetch = (async (input: RequestInfo | URL) => {
      calls.push(String(input))
      return new Response(null, { status: 200 })
    }) as typeof fetch
    const outcomes = await requestCrawl(
      {
        hostname: 'pds.example.com',
        crawlers: ['http://127.0.0.1:9000/', 'bsky.network'],
        devMode: false,
      },
      fakeFetch,
    )
    expect(calls).toEqual(['https://bsky.network/xrpc/com.atproto.sync.requestCrawl'])
    expect(outcomes.map((o) => o.ok)).toEqual([false, true])
  })

  it('asks on the first event, then at most every 20 minutes while events flow', async () => {
    const stub = sequencerNamed('crawl-throttle')
    await runInDurableObject(stub, async (_instance, state) => {
      let now = Date.parse('2026-11-24T12:00:00Z')
      let requests = 0
      const make = () =>
        new Sequencer({
          storage: state.storage,
          retentionMs: 72 * 3_600_000,
          crawlIntervalMs: 20 * 60_000,
          requestCrawl: async () => {
            requests++
          },
          setAlarm: () => {},
          clock: { now: () => now, sleep: async () => {} },
        })
      const sequencer = make()
      const did = 'did:plc:crawl'
      sequencer.append(did, identityEvents(did, 1))
      expect(requests).toBe(1)
      now += 5 * 60_000
      sequencer.append(did, identityEvents(did, 1))
      now += 10 * 60_000
      sequencer.append(did, identityEvents(did, 1))
      expect(requests).toBe(1)
      now += 6 * 60_000
      sequencer.append(did, identityEvents(did, 1))
      expect(requests).toBe(2)
      // A restarted object remembers when it last asked.
      now += 60_000
      make().append(did, identityEvents(did, 1))
      expect(requests).toBe(2)
      now += 20 * 60_000
      make().append(did, identityEvents(did, 1))
      expect(requests).toBe(3)
    })
  })

  it('repeats the request from the Cron Trigger once an hour', () => {
    const runs = Array.from({ length: 6 * 24 }, (_, i) =>
      isCrawlRefreshRun(new Date(Date.parse('2026-11-24T00:00:00Z') + i * 10 * 60_000)),
    )
    expect(runs.filter(Boolean)).toHaveLength(24)
    expect(runs[0]).toBe(true)
  })
})

describe('retention', () => {
  it('prunes a large backlog in batches across alarm runs, keeping the window', async () => {
    const stub = sequencerNamed('prune-batches')
    await fillLog(stub, 120_000, { time: new Date(Date.now() - 100 * 3_600_000) })
    await fillLog(stub, 5)
    await runInDurableObject(stub, async (instance: SequencerDurableObject, state) => {
      await instance.sequencer.runAlarm()
      // 20 batches of 5,000 per run; the rest is left to an alarm a second later.
      expect(instance.log.prunedThrough()).toBe(100_000)
      const soon = (await state.storage.getAlarm())! - Date.now()
      expect(soon).toBeLessThanOrEqual(1000)
      await instance.sequencer.runAlarm()
      expect(instance.log.prunedThrough()).toBe(120_000)
      expect(instance.log.oldestSeq()).toBe(120_001)
      expect(instance.log.getEvents(0, 10).map((e) => e.seq)).toEqual([
        120_001, 120_002, 120_003, 120_004, 120_005,
      ])
      // Nothing left to prune: the next run is a regular interval away.
      expect((await state.storage.getAlarm())! - Date.now()).toBeGreaterThan(30 * 60_000)
    })
  }, 60_000)
})
