/**
 * A `com.atproto.sync.subscribeRepos` subscriber: each binary message is a DAG-CBOR header
 * `{op, t}` followed by a DAG-CBOR body carrying `seq`. Frames are stamped on arrival.
 *
 * It connects as relays do, without asking for permessage-deflate (the `ws` client with
 * `perMessageDeflate: false`; Node's built-in WebSocket always asks for it). The reference PDS
 * never agrees to compression, but Miniflare's entry worker, in front of ours locally, always
 * does, whatever our Worker's settings: the replay then measured mostly zlib, on both ends
 * (bench/README.md, "Replay from cursor 0").
 */
// `ws` 8 from either node_modules (bench/'s, once the reference PDS is installed, or the root's).
import { WebSocket } from 'ws'
// Through src/: a bare import here would resolve into bench/node_modules (the reference PDS's
// own, older copies of the CBOR packages).
import { decodeCbor } from '../src/data/cbor.ts'

export interface Frame {
  /** `#commit`, `#identity`, `#account`, `#sync`, ... (or `error` for an error frame). */
  type: string
  seq: number | null
  repo: string | null
  rev: string | null
  /** performance.now() when the message arrived. */
  at: number
  /** The message's size. */
  bytes: number
}

/** The subscription could not be opened; `reason` is a table cell such as `not implemented: 501`. */
export class FirehoseUnavailableError extends Error {
  override name = 'FirehoseUnavailableError'
  readonly reason: string

  constructor(reason: string) {
    super(`subscribeRepos unavailable: ${reason}`)
    this.reason = reason
  }
}

type Waiter = { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }

export class FirehoseSubscriber {
  readonly frames: Frame[] = []
  readonly errors: string[] = []
  private readonly socket: WebSocket
  private waiters: Waiter[] = []
  private listeners: ((frame: Frame) => void)[] = []

  private constructor(socket: WebSocket) {
    this.socket = socket
    // Before the socket opens: `ws` can deliver the first frames in the same turn as `open`.
    socket.on('message', (data) => this.onMessage(data, performance.now()))
  }

  /** Opens the stream (live, or replaying from `cursor`); throws FirehoseUnavailableError. */
  static async open(baseUrl: string, cursor?: number): Promise<FirehoseSubscriber> {
    const http = `${baseUrl}/xrpc/com.atproto.sync.subscribeRepos${
      cursor === undefined ? '' : `?cursor=${cursor}`
    }`
    const socket = new WebSocket(http.replace(/^http/, 'ws'), { perMessageDeflate: false })
    socket.binaryType = 'arraybuffer'
    // A refused upgrade is an 'error' event; without a listener `ws` would throw it.
    socket.on('error', () => {})
    const subscriber = new FirehoseSubscriber(socket)
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true))
      socket.once('close', () => resolve(false))
    })
    if (opened) return subscriber
    // The upgrade was refused: ask the same URL over plain HTTP to learn why.
    let status = 0
    try {
      const res = await fetch(http)
      status = res.status
      await res.arrayBuffer()
    } catch {
      // no answer at all
    }
    throw new FirehoseUnavailableError(
      status === 501 ? 'not implemented: 501' : `upgrade refused${status ? `: ${status}` : ''}`,
    )
  }

  get lastSeq(): number {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const seq = this.frames[i]!.seq
      if (seq !== null) return seq
    }
    return -1
  }

  /** The first frame (already received or still to come) that matches, or null at the deadline. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame | null> {
    const seen = this.frames.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer)
          resolve(frame)
        },
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        resolve(null)
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  onFrame(listener: (frame: Frame) => void): void {
    this.listeners.push(listener)
  }

  /** Forgets the frames kept so far (long replays need not hold them all). */
  clear(): void {
    this.frames.length = 0
  }

  close(): void {
    this.socket.close()
  }

  private onMessage(data: unknown, at: number): void {
    let frame: Frame
    try {
      frame = parseFrame(data, at)
    } catch (err) {
      this.errors.push((err as Error).message)
      return
    }
    if (frame.type === 'error') this.errors.push(`error frame after seq ${this.lastSeq}`)
    this.frames.push(frame)
    for (const listener of this.listeners) listener(frame)
    const ready = this.waiters.filter((w) => w.match(frame))
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => !ready.includes(w))
      for (const waiter of ready) waiter.resolve(frame)
    }
  }
}

function parseFrame(data: unknown, at: number): Frame {
  if (!(data instanceof ArrayBuffer)) throw new Error('text message on the firehose')
  const bytes = new Uint8Array(data)
  const split = cborItemLength(bytes, 0)
  const header = decodeCbor<{ op?: number; t?: string }>(bytes.subarray(0, split))
  const body = topLevelFields(bytes, split, WANTED)
  return {
    type: header.op === -1 ? 'error' : (header.t ?? '?'),
    seq: typeof body.seq === 'number' ? body.seq : null,
    repo:
      typeof body.repo === 'string' ? body.repo : typeof body.did === 'string' ? body.did : null,
    rev: typeof body.rev === 'string' ? body.rev : null,
    at,
    bytes: bytes.length,
  }
}

const WANTED = new Set(['seq', 'repo', 'did', 'rev'])
const textDecoder = new TextDecoder()

/**
 * Only the body's top-level fields the bench reads, the rest skipped unread: decoding every
 * frame whole (its blocks and ops) cost the subscriber more CPU than the server spent on the
 * replay, on the same two cores.
 */
function topLevelFields(
  bytes: Uint8Array,
  start: number,
  wanted: Set<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const initial = bytes[start]
  if (initial === undefined || initial >> 5 !== 5) return decodeCbor(bytes.subarray(start))
  const count = initial & 0x1f
  if (count >= 24) return decodeCbor(bytes.subarray(start))
  let pos = start + 1
  for (let i = 0; i < count; i++) {
    const keyEnd = cborItemLength(bytes, pos)
    const keyHead = bytes[pos]! & 0x1f
    const keyStart = pos + (keyHead < 24 ? 1 : 2)
    const key = textDecoder.decode(bytes.subarray(keyStart, keyEnd))
    const valueEnd = cborItemLength(bytes, keyEnd)
    if (wanted.has(key)) out[key] = decodeCbor(bytes.subarray(keyEnd, valueEnd))
    pos = valueEnd
  }
  return out
}

/** Where the CBOR item starting at `offset` ends (frames are two items back to back). */
function cborItemLength(bytes: Uint8Array, offset: number): number {
  const initial = bytes[offset]
  if (initial === undefined) throw new Error('truncated frame')
  const major = initial >> 5
  const info = initial & 0x1f
  let pos = offset + 1
  let arg: number
  if (info < 24) arg = info
  else if (info <= 27) {
    const size = 1 << (info - 24)
    arg = 0
    for (let i = 0; i < size; i++) arg = arg * 256 + bytes[pos + i]!
    pos += size
  } else throw new Error('indefinite-length CBOR in a frame')
  switch (major) {
    case 2:
    case 3:
      return pos + arg
    case 4:
      for (let i = 0; i < arg; i++) pos = cborItemLength(bytes, pos)
      return pos
    case 5:
      for (let i = 0; i < 2 * arg; i++) pos = cborItemLength(bytes, pos)
      return pos
    case 6:
      return cborItemLength(bytes, pos)
    default:
      return pos
  }
}
