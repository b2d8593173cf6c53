/**
 * subscribeRepos clients for the workerd tests: a WebSocket opened through the Worker route or
 * straight on a sequencer object, collecting decoded frames.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { encodeCbor } from '../../src/data/cbor.ts'
import type { AppendEvent } from '../../src/sequencer/event-log.ts'
import { type DecodedFrame, decodeFrame } from '../../src/sequencer/frame.ts'
import type { SequencerDurableObject } from '../../worker/sequencer-durable-object.ts'

export type Closed = { code: number; reason: string }

export class TestSubscriber {
  readonly frames: DecodedFrame[] = []
  readonly closed: Promise<Closed>
  readonly ws: WebSocket
  private waiters: { test: () => boolean; resolve: () => void }[] = []

  constructor(ws: WebSocket) {
    this.ws = ws
    ws.binaryType = 'arraybuffer'
    let onClose!: (closed: Closed) => void
    this.closed = new Promise((resolve) => {
      onClose = resolve
    })
    ws.addEventListener('message', (event) => {
      this.frames.push(decodeFrame(new Uint8Array(event.data as ArrayBuffer)))
      this.check()
    })
    ws.addEventListener('close', (event) => {
      onClose({ code: event.code, reason: event.reason })
      this.check()
    })
    ws.accept()
  }

  /** seqs of the event frames received (not #info or errors). */
  get seqs(): number[] {
    return this.frames.filter((f) => f.header.op === 1 && f.header.t !== '#info').map(seqOf)
  }

  /** Resolves once `test` holds, checked after every frame; rejects after `timeoutMs`. */
  until(test: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out with ${this.frames.length} frames`))
      }, timeoutMs)
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  }

  untilSeq(seq: number, timeoutMs?: number): Promise<void> {
    return this.until(() => (this.seqs.at(-1) ?? 0) >= seq, timeoutMs)
  }

  close(): void {
    try {
      this.ws.close(1000, 'done')
    } catch {
      // already closed
    }
  }

  private check(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test()) return true
      waiter.resolve()
      return false
    })
  }
}

export function seqOf(frame: DecodedFrame): number {
  return frame.body.seq as number
}

type FetchTarget = { fetch(input: string, init?: RequestInit): Promise<Response> }

/** Opens a subscription on `target` (SELF, or a sequencer stub); throws unless it upgrades. */
export async function subscribe(target: FetchTarget, cursor?: number): Promise<TestSubscriber> {
  const query = cursor === undefined ? '' : `?cursor=${cursor}`
  const res = await target.fetch(
    `http://localhost:2583/xrpc/com.atproto.sync.subscribeRepos${query}`,
    { headers: { Upgrade: 'websocket' } },
  )
  if (res.status !== 101 || !res.webSocket) {
    throw new Error(`no upgrade: ${res.status} ${await res.text()}`)
  }
  return new TestSubscriber(res.webSocket)
}

export function sequencerNamed(name: string): DurableObjectStub<SequencerDurableObject> {
  return env.SEQUENCER.get(env.SEQUENCER.idFromName(name))
}

const outboxIds = new Map<string, number>()

/** `n` small #identity events of `did`, with outbox ids that keep growing per DID. */
export function identityEvents(did: string, n: number): AppendEvent[] {
  const body = encodeCbor({ did, time: '2026-11-24T00:00:00.000Z' })
  const first = (outboxIds.get(did) ?? 0) + 1
  outboxIds.set(did, first + n - 1)
  return Array.from({ length: n }, (_, i) => ({ outboxId: first + i, type: '#identity', body }))
}

/** Appends `total` events straight into the log (no WebSocket sends), in batches. */
export async function fillLog(
  stub: DurableObjectStub<SequencerDurableObject>,
  total: number,
  opts: { did?: string; time?: Date } = {},
): Promise<void> {
  const did = opts.did ?? 'did:plc:filler'
  await runInDurableObject(stub, (instance: SequencerDurableObject) => {
    for (let done = 0; done < total; done += 500) {
      instance.log.appendEvents(did, identityEvents(did, Math.min(500, total - done)), opts.time)
    }
  })
}
