/**
 * Do firehose replays slow down writes? Against our Worker in workerd (the bench's `direct`
 * server, loopback, fresh state, rate limits off):
 *
 * 1. fill the event log with WINDOW events (createRecord from 4 accounts at once);
 * 2. WRITES sequential createRecord with no subscriber: p50 / p99;
 * 3. open SUBSCRIBERS WebSockets with `cursor=0` at once, all replaying the whole window, and
 *    write sequentially from then on while any of them is still opening or replaying (at most
 *    WRITES, and at most TIME_LIMIT_S): p50 / p99 of those writes, how long the replays took,
 *    and the CPU time of the server and of the clients meanwhile.
 *
 * Run: npm run bench:firehose-load [-- --variant=before:/path/to/other/checkout ...]
 * Each `--variant=name:dir` builds the Worker from that checkout (`.` is this one, the
 * default); with several, the runs alternate variant by variant, ROUNDS times (so that a load
 * that comes and goes on the machine falls on all of them). FIREHOSE_LOAD_WINDOW,
 * FIREHOSE_LOAD_SUBSCRIBERS, FIREHOSE_LOAD_WRITES, FIREHOSE_LOAD_ROUNDS override the sizes.
 * A benchmark, not a test: it prints the figures whatever they are.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { WebSocket } from 'ws'
import { buildWorker } from './build.ts'
import { XrpcClient } from './client.ts'
import { readCpuMs, sleep, waitForIdle } from './processes.ts'
import { type BenchServer, startDirect } from './servers.ts'
import { quantile } from './stats.ts'

const WINDOW = Number(process.env.FIREHOSE_LOAD_WINDOW ?? 3000)
const SUBSCRIBERS = Number(process.env.FIREHOSE_LOAD_SUBSCRIBERS ?? 200)
const WRITES = Number(process.env.FIREHOSE_LOAD_WRITES ?? 300)
const ROUNDS = Number(process.env.FIREHOSE_LOAD_ROUNDS ?? 1)
const TIME_LIMIT_S = 120
const FILL_WRITERS = 4

/** Caps high enough for the bench's subscribers, all from one address (builds without caps ignore them). */
const VARS = {
  PDS_FIREHOSE_MAX_SUBSCRIBERS: String(SUBSCRIBERS + 10),
  PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP: String(SUBSCRIBERS + 10),
}

type Session = { did: string; accessJwt: string }
type Variant = { name: string; root: string }

type RunResult = {
  variant: string
  idle: number[]
  loaded: number[]
  replaySeconds: number
  complete: number
  events: number
  /** CPU seconds over the replay phase: workerd's, and this process's (the 200 clients). */
  serverCpuS: number
  clientCpuS: number
}

function variants(): Variant[] {
  const given = process.argv
    .filter((arg) => arg.startsWith('--variant='))
    .map((arg) => {
      const [name, dir] = arg.slice('--variant='.length).split(':')
      if (!name || !dir) throw new Error(`--variant=name:dir, not ${arg}`)
      return { name, root: resolve(dir) }
    })
  return given.length > 0 ? given : [{ name: 'this tree', root: resolve('.') }]
}

const post = (i: number) => ({
  $type: 'app.bsky.feed.post',
  text: `firehose load post ${i}, with a little text to make it look real`,
  createdAt: new Date().toISOString(),
})

async function newAccount(client: XrpcClient, name: string): Promise<Session> {
  const handle = `${name}${Math.random().toString(36).slice(2, 8)}.test`
  const res = await client.call<Session>('com.atproto.server.createAccount', {
    body: { handle, email: `${handle}@example.com`, password: 'bench password' },
  })
  return res.body
}

async function write(client: XrpcClient, s: Session, i: number): Promise<number> {
  const res = await client.call('com.atproto.repo.createRecord', {
    body: { repo: s.did, collection: 'app.bsky.feed.post', record: post(i) },
    token: s.accessJwt,
  })
  return res.ms
}

/** A subscriber that only counts frames: from cursor 0 there are no gaps, so count = seq. */
class CountingSubscriber {
  frames = 0
  closed = false
  private readonly socket: WebSocket

  private constructor(socket: WebSocket) {
    this.socket = socket
    socket.binaryType = 'arraybuffer'
    socket.addEventListener('message', () => {
      this.frames++
    })
    socket.addEventListener('close', () => {
      this.closed = true
    })
  }

  /** Without permessage-deflate, as relays connect (Node's built-in WebSocket always asks). */
  static open(url: string): Promise<CountingSubscriber> {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    // Counting starts before the socket opens: `ws` can deliver frames in the turn of `open`.
    const subscriber = new CountingSubscriber(socket)
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(subscriber), { once: true })
      socket.addEventListener('error', () => reject(new Error('subscribeRepos refused')), {
        once: true,
      })
    })
  }

  close(): void {
    this.socket.close()
  }
}

async function runOnce(variant: Variant, bundle: string): Promise<RunResult> {
  const server: BenchServer = await startDirect(bundle, { vars: VARS })
  const client = new XrpcClient(server.url)
  const subs: CountingSubscriber[] = []
  try {
    const fillers = await Promise.all(
      Array.from({ length: FILL_WRITERS }, (_, i) => newAccount(client, `fill${i}`)),
    )
    await Promise.all(
      fillers.map(async (s) => {
        for (let i = 0; i < WINDOW / FILL_WRITERS; i++) await write(client, s, i)
      }),
    )
    const writer = await newAccount(client, 'timed')
    for (let i = 0; i < 30; i++) await write(client, writer, i)
    await waitForIdle(() => server.memoryPids())

    const idle: number[] = []
    for (let i = 0; i < WRITES; i++) idle.push(await write(client, writer, i))
    await waitForIdle(() => server.memoryPids())

    // The window as the subscribers will see it: every event so far (accounts, fill, writes).
    const probe = await CountingSubscriber.open(subscribeUrl(server.url, 0))
    let seen = -1
    while (probe.frames !== seen) {
      seen = probe.frames
      await sleep(500)
    }
    probe.close()
    const events = seen

    const started = performance.now()
    const serverCpu = readCpuMs(server.memoryPids()) ?? 0
    const clientCpu = process.cpuUsage()
    // All at once, and the timed writes start with them: a busy sequencer also delays the
    // upgrades, and the writes made meanwhile count.
    let opening = true
    const opened = Promise.all(
      Array.from({ length: SUBSCRIBERS }, () =>
        CountingSubscriber.open(subscribeUrl(server.url, 0)),
      ),
    ).then((all) => {
      subs.push(...all)
      opening = false
    })
    const replaying = () => opening || subs.some((sub) => !sub.closed && sub.frames < events)
    const loaded: number[] = []
    const deadline = started + TIME_LIMIT_S * 1000
    while (replaying() && loaded.length < WRITES && performance.now() < deadline) {
      loaded.push(await write(client, writer, loaded.length))
    }
    await opened
    while (replaying() && performance.now() < deadline) await sleep(50)
    const replaySeconds = (performance.now() - started) / 1000
    const complete = subs.filter((sub) => sub.frames >= events).length
    const serverCpuS = ((readCpuMs(server.memoryPids()) ?? 0) - serverCpu) / 1000
    const { user, system } = process.cpuUsage(clientCpu)
    const clientCpuS = (user + system) / 1e6
    return {
      variant: variant.name,
      idle,
      loaded,
      replaySeconds,
      complete,
      events,
      serverCpuS,
      clientCpuS,
    }
  } finally {
    for (const sub of subs) sub.close()
    await server.stop()
  }
}

function subscribeUrl(base: string, cursor: number): string {
  return `${base.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`
}

const ms = (n: number) => `${n.toFixed(1)} ms`

function describe(r: RunResult): string {
  const idle = `no subscribers: p50 ${ms(quantile(r.idle, 0.5))}, p99 ${ms(quantile(r.idle, 0.99))}`
  const loaded =
    r.loaded.length === 0
      ? 'no write finished during the replays'
      : `${SUBSCRIBERS} replaying: p50 ${ms(quantile(r.loaded, 0.5))}, p99 ${ms(quantile(r.loaded, 0.99))}, max ${ms(Math.max(...r.loaded))} (${r.loaded.length} writes)`
  return `${r.variant}: createRecord ${idle}; ${loaded}; replays of ${r.events} events done in ${r.replaySeconds.toFixed(1)} s, ${r.complete}/${SUBSCRIBERS} complete; CPU over the replays: server ${r.serverCpuS.toFixed(1)} s, clients ${r.clientCpuS.toFixed(1)} s`
}

async function main(): Promise<void> {
  const list = variants()
  const buildDir = mkdtempSync(join(tmpdir(), 'edge-pds-firehose-load-'))
  try {
    const bundles = list.map((variant, i) => {
      console.log(`building ${variant.name} (${variant.root})...`)
      return buildWorker(join(buildDir, String(i)), { root: variant.root })
    })
    const results: RunResult[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < list.length; i++) {
        console.log(`round ${round + 1}: ${list[i]!.name}...`)
        const result = await runOnce(list[i]!, bundles[i]!)
        console.log(`  ${describe(result)}`)
        results.push(result)
      }
    }
    console.log('')
    for (const result of results) console.log(describe(result))
  } finally {
    rmSync(buildDir, { recursive: true, force: true })
  }
}

await main()
