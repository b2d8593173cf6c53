/**
 * Sync and firehose benchmark, against the PDS started the way `npm run dev` does (wrangler
 * dev + the local PLC directory, fresh state, rate limits off):
 *
 * 1. Event delivery latency: a live subscribeRepos subscriber; for each createRecord, the time
 *    from the write's response (and from its request) to the arrival of its #commit frame.
 *    Then the same for single writes after the server sat idle.
 * 2. getRepo: MB/s and workerd's peak memory (RSS sampled every few ms above its level before
 *    the export) for a 10,000-record repo, and the time for a 500-record one.
 * 3. Replay: events per second from cursor 0 over the whole log.
 *
 * Run: npm run bench:sync  (SYNC_BENCH_RECORDS, SYNC_BENCH_EVENTS, SYNC_BENCH_IDLE_MS override
 * the sizes; SYNC_BENCH_PARTS=latency,idle,export,replay picks the parts). A benchmark, not a
 * test: it prints the figures whatever they are.
 */
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { decodeFrame } from '../src/sequencer/frame.ts'
import { type DevServer, startDevServer } from '../test/e2e/dev-server.ts'
import { findDescendants } from './processes.ts'

const RECORDS = Number(process.env.SYNC_BENCH_RECORDS ?? 10_000)
const REPLAY_EVENTS = Number(process.env.SYNC_BENCH_EVENTS ?? 10_000)
const LATENCY_WRITES = 300
const IDLE_ROUNDS = 5
const IDLE_MS = Number(process.env.SYNC_BENCH_IDLE_MS ?? 15_000)
/** Timed exports per repo size (after one warm-up). */
const EXPORT_RUNS: Record<number, number> = { 500: 20 }
const PARTS = new Set((process.env.SYNC_BENCH_PARTS ?? 'latency,idle,export,replay').split(','))

type Session = { did: string; accessJwt: string }

// ---------------------------------------------------------------- server

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The workerd processes of the dev server (they hold the Worker and its state). */
function workerdPids(server: DevServer): number[] {
  return findDescendants(server.pid, 'workerd')
}

function rssKb(pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      total += Number(match?.[1] ?? 0)
    } catch {
      // exited
    }
  }
  return total
}

// ---------------------------------------------------------------- client

async function xrpc<T>(base: string, nsid: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

async function newAccount(base: string, name: string): Promise<Session> {
  const handle = `${name}${Math.random().toString(36).slice(2, 8)}.test`
  return xrpc<Session>(base, 'com.atproto.server.createAccount', {
    handle,
    email: `${handle}@example.com`,
    password: 'bench password',
  })
}

const post = (i: number) => ({
  $type: 'app.bsky.feed.post',
  text: `benchmark post number ${i}, with a little text to make it look real`,
  createdAt: new Date().toISOString(),
})

function createPost(base: string, s: Session, i: number): Promise<{ commit: { rev: string } }> {
  return xrpc(
    base,
    'com.atproto.repo.createRecord',
    { repo: s.did, collection: 'app.bsky.feed.post', record: post(i) },
    s.accessJwt,
  )
}

async function fillRepo(base: string, s: Session, records: number): Promise<void> {
  for (let done = 0; done < records; done += 200) {
    const n = Math.min(200, records - done)
    await xrpc(
      base,
      'com.atproto.repo.applyWrites',
      {
        repo: s.did,
        writes: Array.from({ length: n }, (_, i) => ({
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          value: post(done + i),
        })),
      },
      s.accessJwt,
    )
  }
}

/** A live subscriber that timestamps each #commit frame by `repo rev`. */
class Subscriber {
  readonly arrivals = new Map<string, number>()
  lastSeq = 0
  frames = 0
  bytes = 0
  private readonly socket: WebSocket
  private onFrame: (() => void) | null = null

  private constructor(socket: WebSocket, decode: boolean) {
    this.socket = socket
    socket.binaryType = 'arraybuffer'
    socket.addEventListener('message', (event) => {
      const at = performance.now()
      const data = new Uint8Array(event.data as ArrayBuffer)
      this.frames++
      this.bytes += data.length
      // A replay from 0 has no gaps here: its frame count is its position.
      if (!decode) {
        this.lastSeq = this.frames
        this.onFrame?.()
        return
      }
      const { header, body } = decodeFrame(data)
      if (typeof body.seq === 'number') this.lastSeq = body.seq
      if (header.t === '#commit') this.arrivals.set(`${body.repo} ${body.rev}`, at)
      this.onFrame?.()
    })
  }

  /**
   * `decode: false` only counts frames (so the client's decoding does not limit a replay).
   * Without permessage-deflate, as relays connect (Node's built-in WebSocket always asks).
   */
  static open(base: string, cursor?: number, decode = true): Promise<Subscriber> {
    const query = cursor === undefined ? '' : `?cursor=${cursor}`
    const socket = new WebSocket(
      `${base.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos${query}`,
      { perMessageDeflate: false },
    )
    // Listening starts before the socket opens: `ws` can deliver frames in the turn of `open`.
    const subscriber = new Subscriber(socket, decode)
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(subscriber))
      socket.addEventListener('error', () => reject(new Error('subscribeRepos did not open')))
    })
  }

  waitFor(test: () => boolean, timeoutMs = 60_000): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for frames')), timeoutMs)
      this.onFrame = () => {
        if (!test()) return
        clearTimeout(timer)
        this.onFrame = null
        resolve()
      }
    })
  }

  close(): void {
    this.socket.close()
  }
}

// ---------------------------------------------------------------- measurements

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const ms = (n: number) => `${n.toFixed(2)} ms`

async function measureWrite(
  base: string,
  s: Session,
  sub: Subscriber,
  i: number,
): Promise<{ fromResponse: number; fromRequest: number }> {
  const started = performance.now()
  const res = await createPost(base, s, i)
  const answered = performance.now()
  const key = `${s.did} ${res.commit.rev}`
  await sub.waitFor(() => sub.arrivals.has(key))
  const at = sub.arrivals.get(key)!
  return { fromResponse: at - answered, fromRequest: at - started }
}

async function main(): Promise<void> {
  console.log('starting the PDS (wrangler dev + local PLC)...')
  const server = await startDevServer({ env: { PDS_RATE_LIMITS_ENABLED: 'false' } })
  const base = server.pdsUrl
  const lines: string[] = []
  try {
    const writer = await newAccount(base, 'lat')
    const live = await Subscriber.open(base)

    // 1. Delivery latency, warm.
    for (let i = 0; i < 20; i++) await measureWrite(base, writer, live, i)
    if (PARTS.has('latency')) {
      const warm = []
      for (let i = 0; i < LATENCY_WRITES; i++) warm.push(await measureWrite(base, writer, live, i))
      const fromResponse = warm.map((w) => w.fromResponse)
      const fromRequest = warm.map((w) => w.fromRequest)
      lines.push(
        `delivery latency, ${LATENCY_WRITES} writes: response -> frame p50 ${ms(percentile(fromResponse, 50))}, p99 ${ms(percentile(fromResponse, 99))}; request -> frame p50 ${ms(percentile(fromRequest, 50))}, p99 ${ms(percentile(fromRequest, 99))}`,
      )
    }

    // 2. Delivery latency after idle (the sequencer object can hibernate in between).
    const idle = []
    for (let i = 0; i < (PARTS.has('idle') ? IDLE_ROUNDS : 0); i++) {
      await sleep(IDLE_MS)
      idle.push(await measureWrite(base, writer, live, i))
    }
    if (idle.length > 0)
      lines.push(
        `delivery latency after ${IDLE_MS / 1000} s idle (${IDLE_ROUNDS} writes): response -> frame ${idle.map((w) => ms(w.fromResponse)).join(', ')}; max request -> frame ${ms(Math.max(...idle.map((w) => w.fromRequest)))}`,
      )

    // 3. getRepo: a 500-record and a RECORDS-record repo.
    const pids = workerdPids(server)
    for (const size of PARTS.has('export') ? [500, RECORDS] : []) {
      const owner = await newAccount(base, 'big')
      await fillRepo(base, owner, size)
      const url = `${base}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(owner.did)}`
      await (await fetch(url)).arrayBuffer()
      const times: number[] = []
      let bytes = 0
      let peak = 0
      for (let run = 0; run < (EXPORT_RUNS[size] ?? 5); run++) {
        const baseline = rssKb(pids)
        let high = baseline
        const sampler = setInterval(() => {
          high = Math.max(high, rssKb(pids))
        }, 2)
        const started = performance.now()
        const res = await fetch(url)
        const reader = res.body!.getReader()
        bytes = 0
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          bytes += value.length
        }
        times.push(performance.now() - started)
        clearInterval(sampler)
        high = Math.max(high, rssKb(pids))
        peak = Math.max(peak, high - baseline)
      }
      const best = Math.min(...times)
      const median = percentile(times, 50)
      lines.push(
        `getRepo ${size} records: ${(bytes / 1e6).toFixed(2)} MB, median ${ms(median)} (best ${ms(best)}), ${(bytes / 1e6 / (median / 1000)).toFixed(1)} MB/s; workerd RSS peak +${(peak / 1024).toFixed(1)} MB over its level before the export`,
      )
    }

    // 4. Replay from cursor 0.
    const writers = PARTS.has('replay')
      ? await Promise.all([0, 1, 2, 3].map((i) => newAccount(base, `rp${i}`)))
      : []
    const perWriter = Math.ceil(Math.max(0, REPLAY_EVENTS - live.lastSeq) / writers.length)
    await Promise.all(
      writers.map(async (w) => {
        for (let i = 0; i < perWriter; i++) await createPost(base, w, i)
      }),
    )
    const expectedLast = await (async () => {
      const probe = await createPost(base, writer, 0)
      await live.waitFor(() => live.arrivals.has(`${writer.did} ${probe.commit.rev}`))
      return live.lastSeq
    })()
    for (const label of writers.length > 0 ? ['first', 'second'] : []) {
      const started = performance.now()
      const replay = await Subscriber.open(base, 0, false)
      await replay.waitFor(() => replay.lastSeq >= expectedLast, 300_000)
      const seconds = (performance.now() - started) / 1000
      lines.push(
        `replay from cursor 0 (${label} run): ${replay.frames} events, ${(replay.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${Math.round(replay.frames / seconds)} events/s`,
      )
      replay.close()
    }
    live.close()
  } finally {
    await server.stop()
    server.removeState()
  }
  console.log('')
  for (const line of lines) console.log(line)
}

await main()
