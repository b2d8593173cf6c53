/**
 * The subscribers of `com.atproto.sync.subscribeRepos`: replay from a cursor, the handoff to
 * live delivery, fan-out, and the cut-off of consumers that cannot keep up.
 *
 * Every subscriber has a `lastSeq`, the last event it was sent. A live subscriber gets new
 * events straight from `publish`, which runs right after the log stored them (the Durable
 * Object's output gate holds the frames until that write is durable). A subscriber behind the
 * log replays from storage, a page at a time; `publish` skips it, since whatever arrives during
 * the replay is read by one of its next pages. It turns live in the same synchronous step as
 * the read that found nothing more after `lastSeq`, so no append can slip in between: nothing
 * is sent twice or skipped. State is kept in the socket's attachment so that it survives
 * hibernation.
 *
 * Replays share the object with every account's appends, so they are served by one loop, a
 * slice of one socket at a time with a yield after each: an append waits for one slice, not
 * for every replaying socket's. At most `maxConcurrentReplays` replay at once (the others wait
 * their turn, which also bounds what replays queue in the runtime); live subscribers are
 * served by `publish` whatever the replays are doing.
 *
 * @NOTE workerd gives no sign of how fast a consumer reads (WebSocket.bufferedAmount and send
 * callbacks do not exist: cloudflare/workerd#988); a send only queues bytes in the runtime.
 * So the backlog of each socket is estimated by assuming it drains at `drainBytesPerSecond`
 * (PDS_FIREHOSE_CONSUMER_MIBPS):
 * replay pauses while the estimate is above `replayHighWater` (so a replay never queues far
 * more than that), and a live subscriber whose estimate passes `maxBacklogBytes` (a burst the
 * assumed speed cannot absorb) is sent `ConsumerTooSlow` and closed.
 */
import type { EventLog, SequencedEvent } from './event-log.ts'
import { encodeErrorFrame, encodeEventFrame, encodeInfoFrame } from './frame.ts'

/** The slice of a (hibernatable) WebSocket the hub uses. */
export interface SubscriberSocket {
  send(message: Uint8Array): void
  close(code?: number, reason?: string): void
  serializeAttachment(value: unknown): void
  deserializeAttachment(): unknown
}

export type FirehoseOptions = {
  /** Events read from storage per replay query. */
  pageEvents: number
  /** Event bytes read per replay query (at least one event is read). */
  pageBytes: number
  /** Bytes a replay sends before yielding to other work (appends, other sockets). */
  sliceBytes: number
  /** Replays served at once; later ones wait for a free turn. */
  maxConcurrentReplays: number
  /** The consumer speed the backlog estimate assumes. */
  drainBytesPerSecond: number
  /** Estimated backlog above which a replay waits. */
  replayHighWater: number
  /** Estimated backlog above which a live subscriber is cut off with ConsumerTooSlow. */
  maxBacklogBytes: number
}

/** Options for a consumer speed: half a second of it queued by a replay, two seconds live. */
export function firehoseOptionsFor(mibPerSecond: number): FirehoseOptions {
  const drainBytesPerSecond = mibPerSecond * 1024 * 1024
  return {
    pageEvents: 500,
    pageBytes: 128 * 1024,
    sliceBytes: 128 * 1024,
    maxConcurrentReplays: 8,
    drainBytesPerSecond,
    replayHighWater: drainBytesPerSecond / 2,
    maxBacklogBytes: drainBytesPerSecond * 2,
  }
}

export const DEFAULT_FIREHOSE_OPTIONS: FirehoseOptions = firehoseOptionsFor(16)

export type Clock = { now(): number; sleep(ms: number): Promise<void> }

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

/** WebSocket close codes: policy violation (protocol errors), internal error. */
const CLOSE_POLICY = 1008
const CLOSE_INTERNAL = 1011

/** Longest sleep of the replay loop while every replay waits for its backlog to drain. */
const PACED_POLL_MS = 100

export const OUTDATED_CURSOR_MESSAGE = 'Requested cursor exceeded limit. Possibly missing events'

type Attachment = { lastSeq: number; live: boolean }

/** An error frame that ends a subscription. */
export type Refusal = { error: string; message: string }

/** Sends the error frame, then closes the socket, as the event stream spec asks. */
export function refuseSocket(socket: SubscriberSocket, refusal: Refusal): void {
  trySend(socket, encodeErrorFrame(refusal.error, refusal.message))
  closeQuietly(socket, CLOSE_POLICY, refusal.error)
}

class Subscriber {
  readonly socket: SubscriberSocket
  lastSeq: number
  live: boolean
  closed = false
  replaying = false
  backlog = 0
  backlogAt = 0

  constructor(socket: SubscriberSocket, state: Attachment) {
    this.socket = socket
    this.lastSeq = state.lastSeq
    this.live = state.live
  }
}

export class FirehoseHub {
  readonly options: FirehoseOptions
  private readonly log: EventLog
  private readonly clock: Clock
  private readonly subs = new Map<SubscriberSocket, Subscriber>()
  /** Replays waiting for a turn, oldest first, and those being served. */
  private readonly waiting: Subscriber[] = []
  private readonly active = new Set<Subscriber>()
  private pumping = false
  private readonly onError: (message: string, err: unknown) => void

  constructor(
    log: EventLog,
    opts: {
      options?: Partial<FirehoseOptions>
      clock?: Clock
      onError?: (message: string, err: unknown) => void
    } = {},
  ) {
    this.log = log
    this.options = { ...DEFAULT_FIREHOSE_OPTIONS, ...opts.options }
    this.clock = opts.clock ?? systemClock
    this.onError = opts.onError ?? ((message, err) => console.error(message, err))
  }

  /** Open subscriptions. */
  get size(): number {
    return this.subs.size
  }

  /** How many subscribers are replaying from storage rather than live. */
  get replaying(): number {
    let n = 0
    for (const sub of this.subs.values()) if (!sub.live) n++
    return n
  }

  /**
   * A new connection. Without a cursor it starts live; a cursor ahead of the log is refused
   * with FutureCursor; one older than the retention window gets `#info OutdatedCursor` and the
   * whole window; otherwise every event after the cursor is replayed, then live.
   */
  subscribe(socket: SubscriberSocket, cursor: number | null): void {
    const latest = this.log.latestSeq()
    if (cursor === null) {
      this.add(socket, { lastSeq: latest, live: true })
      return
    }
    const refusal = this.refusalFor(cursor)
    if (refusal) {
      this.refuse(socket, refusal)
      return
    }
    let from = cursor
    const pruned = this.log.prunedThrough()
    if (cursor < pruned) {
      // Cursor 0 asks for the whole window: nothing to warn about.
      if (cursor > 0) trySend(socket, encodeInfoFrame('OutdatedCursor', OUTDATED_CURSOR_MESSAGE))
      from = pruned
    }
    const sub = this.add(socket, { lastSeq: from, live: false })
    this.replay(sub)
  }

  /**
   * Why a connection from `cursor` would be refused (a cursor ahead of the log), or null. The
   * host asks before it accepts the socket, since how it accepts one decides whether closing
   * it ends the connection (worker/sequencer-durable-object.ts).
   */
  refusalFor(cursor: number | null): Refusal | null {
    if (cursor !== null && cursor > this.log.latestSeq()) {
      return { error: 'FutureCursor', message: 'Cursor in the future.' }
    }
    return null
  }

  /** Re-adopts sockets that outlived a hibernation; their state is in their attachments. */
  restore(sockets: Iterable<SubscriberSocket>): void {
    const latest = this.log.latestSeq()
    for (const socket of sockets) {
      if (this.subs.has(socket)) continue
      const state = readAttachment(socket)
      if (!state) {
        closeQuietly(socket, CLOSE_INTERNAL, 'lost subscription state')
        continue
      }
      const sub = this.add(socket, state)
      if (!sub.live || sub.lastSeq < latest) {
        sub.live = false
        this.replay(sub)
      }
    }
  }

  /** Sends events the log just stored (in seq order) to every live subscriber. */
  publish(events: SequencedEvent[]): void {
    const first = events[0]
    if (!first || this.subs.size === 0) return
    let frames: Uint8Array[] | null = null
    for (const sub of this.subs.values()) {
      if (sub.closed || !sub.live) continue
      if (sub.lastSeq < first.seq - 1) {
        // Not where a live subscriber should be: let storage fill the gap.
        sub.live = false
        this.persist(sub)
        this.replay(sub)
        continue
      }
      frames ??= events.map((event) => encodeEventFrame(event))
      for (let i = 0; i < events.length && !sub.closed; i++) {
        const seq = events[i]!.seq
        if (seq <= sub.lastSeq) continue
        if (this.send(sub, frames[i]!)) sub.lastSeq = seq
      }
      if (sub.closed) continue
      if (this.backlogOf(sub) > this.options.maxBacklogBytes) {
        this.refuse(sub.socket, { error: 'ConsumerTooSlow', message: 'Stream consumer too slow' })
        continue
      }
      this.persist(sub)
    }
  }

  /** Forgets a socket that closed or failed. */
  drop(socket: SubscriberSocket): void {
    const sub = this.subs.get(socket)
    if (!sub) return
    sub.closed = true
    this.subs.delete(socket)
  }

  private add(socket: SubscriberSocket, state: Attachment): Subscriber {
    const sub = new Subscriber(socket, state)
    sub.backlogAt = this.clock.now()
    this.subs.set(socket, sub)
    this.persist(sub)
    return sub
  }

  /** Sends an error frame and closes the connection, as the spec asks. */
  private refuse(socket: SubscriberSocket, refusal: Refusal): void {
    this.drop(socket)
    refuseSocket(socket, refusal)
  }

  /** Queues a replay from storage until caught up; the subscriber then turns live. */
  private replay(sub: Subscriber): void {
    if (sub.replaying) return
    sub.replaying = true
    this.waiting.push(sub)
    if (!this.pumping) void this.pump()
  }

  /** The one loop that serves every replay, a slice at a time, until none is left. */
  private async pump(): Promise<void> {
    this.pumping = true
    try {
      for (;;) {
        while (this.active.size < this.options.maxConcurrentReplays && this.waiting.length > 0) {
          this.active.add(this.waiting.shift()!)
        }
        if (this.active.size === 0) return
        let served = false
        let wait = Number.POSITIVE_INFINITY
        for (const sub of [...this.active]) {
          // Ended during an earlier turn's yield (and maybe queued again since).
          if (!this.active.has(sub)) continue
          if (sub.closed || sub.live) {
            this.endReplay(sub)
            continue
          }
          const backlogWait = this.replayWait(sub)
          if (backlogWait > 0) {
            wait = Math.min(wait, backlogWait)
            continue
          }
          if (this.replayTurn(sub)) this.endReplay(sub)
          served = true
          // Let appends, live delivery and the next socket have their turn.
          await this.clock.sleep(0)
        }
        // Every socket is paced: sleep, but wake soon enough to start a newly queued replay.
        if (!served && wait < Number.POSITIVE_INFINITY) {
          await this.clock.sleep(Math.min(wait, PACED_POLL_MS))
        }
      }
    } finally {
      this.pumping = false
    }
  }

  /** One slice of a replay; true when it is over (caught up, or failed and closed). */
  private replayTurn(sub: Subscriber): boolean {
    try {
      return this.replaySlice(sub)
    } catch (err) {
      this.onError('firehose: replay failed', err)
      this.drop(sub.socket)
      closeQuietly(sub.socket, CLOSE_INTERNAL, 'replay failed')
      return true
    }
  }

  private endReplay(sub: Subscriber): void {
    this.active.delete(sub)
    sub.replaying = false
  }

  /**
   * Sends up to one slice of stored events. Returns true once nothing is left after
   * `lastSeq`: the subscriber is then live, switched in the same synchronous step as that read.
   */
  private replaySlice(sub: Subscriber): boolean {
    const { pageEvents, pageBytes, sliceBytes, replayHighWater } = this.options
    let sent = 0
    for (;;) {
      const page = this.log.getEvents(sub.lastSeq, pageEvents, pageBytes)
      if (page.length === 0) {
        sub.live = true
        this.persist(sub)
        return true
      }
      // Retention overtook a slow replay: say so, as for an outdated cursor.
      if (page[0]!.seq > sub.lastSeq + 1 && sub.lastSeq < this.log.prunedThrough()) {
        trySend(sub.socket, encodeInfoFrame('OutdatedCursor', OUTDATED_CURSOR_MESSAGE))
      }
      for (const event of page) {
        const frame = encodeEventFrame(event)
        if (!this.send(sub, frame)) return true
        sub.lastSeq = event.seq
        sent += frame.length
      }
      this.persist(sub)
      if (sent >= sliceBytes || this.backlogOf(sub) > replayHighWater) return false
    }
  }

  /** Milliseconds a replay should wait for its estimated backlog to drain. */
  private replayWait(sub: Subscriber): number {
    const { replayHighWater, drainBytesPerSecond } = this.options
    const backlog = this.backlogOf(sub)
    if (backlog <= replayHighWater) return 0
    return Math.ceil(((backlog - replayHighWater / 2) / drainBytesPerSecond) * 1000)
  }

  private send(sub: Subscriber, frame: Uint8Array): boolean {
    try {
      sub.socket.send(frame)
    } catch {
      // Closed under us; its close event (or none, if it is gone) finishes the cleanup.
      this.drop(sub.socket)
      return false
    }
    const now = this.clock.now()
    sub.backlog = this.backlogAt(sub, now) + frame.length
    sub.backlogAt = now
    return true
  }

  private backlogOf(sub: Subscriber): number {
    return this.backlogAt(sub, this.clock.now())
  }

  private backlogAt(sub: Subscriber, now: number): number {
    const drained = ((now - sub.backlogAt) * this.options.drainBytesPerSecond) / 1000
    return Math.max(0, sub.backlog - drained)
  }

  private persist(sub: Subscriber): void {
    try {
      sub.socket.serializeAttachment({ lastSeq: sub.lastSeq, live: sub.live } satisfies Attachment)
    } catch (err) {
      this.onError('firehose: could not store subscriber state', err)
    }
  }
}

function readAttachment(socket: SubscriberSocket): Attachment | null {
  let value: unknown
  try {
    value = socket.deserializeAttachment()
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { lastSeq, live } = value as Partial<Attachment>
  if (!Number.isSafeInteger(lastSeq) || typeof live !== 'boolean') return null
  return { lastSeq: lastSeq as number, live }
}

function trySend(socket: SubscriberSocket, frame: Uint8Array): void {
  try {
    socket.send(frame)
  } catch {
    // Already closed.
  }
}

function closeQuietly(socket: SubscriberSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason)
  } catch {
    // Already closed.
  }
}
