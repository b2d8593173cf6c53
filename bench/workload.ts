/**
 * The workload, run the same way against each server (fresh state, loopback, one client):
 * phases run one after another, and a phase that fails leaves `n/a` cells with the reason
 * instead of stopping the run.
 */
import { XrpcClient, XrpcError } from './client.ts'
import { FirehoseSubscriber, FirehoseUnavailableError } from './firehose.ts'
import type { Cell, Results } from './metrics.ts'
import { readCpuMs, readMemory, sleep, waitForIdle } from './processes.ts'
import type { BenchServer } from './servers.ts'
import { median, perSecond, quantile } from './stats.ts'

export interface WorkloadConfig {
  /** Sequential createSession calls timed. */
  sessions: number
  sequentialWrites: number
  /** Records per writer in each 8-writer phase. */
  concurrentWritesPerWriter: number
  getRecords: number
  /** Full listRecords passes (pages of 100) over the sequential account's records. */
  listPasses: number
  getRepoRunsSmall: number
  getRepoRunsLarge: number
  largeRepoRecords: number
  /** createRecord samples into the large repo, and from the start of the empty one. */
  scaleWrites: number
  firehoseWrites: number
  idleSamples: number
  idleMs: number
  warmupWrites: number
}

export const FULL_WORKLOAD: WorkloadConfig = {
  sessions: 20,
  sequentialWrites: 1000,
  concurrentWritesPerWriter: 100,
  getRecords: 1000,
  listPasses: 5,
  getRepoRunsSmall: 10,
  getRepoRunsLarge: 5,
  largeRepoRecords: 10_000,
  scaleWrites: 200,
  firehoseWrites: 200,
  idleSamples: 3,
  idleMs: 5000,
  warmupWrites: 50,
}

/** For trying the harness: every phase, a tenth of the work. */
export const QUICK_WORKLOAD: WorkloadConfig = {
  sessions: 5,
  sequentialWrites: 200,
  concurrentWritesPerWriter: 10,
  getRecords: 100,
  listPasses: 1,
  getRepoRunsSmall: 2,
  getRepoRunsLarge: 1,
  largeRepoRecords: 1000,
  scaleWrites: 50,
  firehoseWrites: 20,
  idleSamples: 1,
  idleMs: 5000,
  warmupWrites: 10,
}

const COLLECTION = 'app.bsky.feed.post'
const PASSWORD = 'bench-password-1'
const BATCH = 200

interface Account {
  did: string
  handle: string
  accessJwt: string
}

interface CreateAccountOutput {
  did: string
  handle: string
  accessJwt: string
}

interface CreateRecordOutput {
  uri: string
  cid: string
  commit?: { cid: string; rev: string }
}

interface ListRecordsOutput {
  records: { uri: string }[]
  cursor?: string
}

export interface WorkloadReport {
  results: Results
  /** Failed requests and other things worth reading next to the table. */
  notes: string[]
  /** Something failed that is not a method still to be implemented. */
  failed: boolean
}

export interface Phase {
  name: string
  /** The phase commits to repos: our account objects archive the last commits later. */
  writes: boolean
  /** Runs the phase; a failure becomes `n/a` cells, never an exception. */
  run(): Promise<void>
}

export interface Workload {
  phases: Phase[]
  /** Reads the server's memory and returns the figures. */
  finish(): WorkloadReport
}

/**
 * The phases of the workload against one server, to run in order. The harness interleaves the
 * servers phase by phase, so that a load that comes and goes on the machine falls on all of
 * them alike.
 */
export function planWorkload(
  server: BenchServer,
  cfg: WorkloadConfig,
  log: (line: string) => void,
): Workload {
  const client = new XrpcClient(server.url)
  const results: Results = {}
  const notes: string[] = []
  let failed = false
  const memory = (): void => {
    const mem = readMemory(server.memoryPids())
    results['memory.end'] = mem ? mem.rssMb : { na: 'no /proc' }
    results['memory.peak'] = mem ? mem.peakMb : { na: 'no /proc' }
  }

  /** The server's CPU time from now, per request: its processes, with their storage. */
  const serverCpu = (): { per(requests: number): Cell } => {
    const before = readCpuMs(server.memoryPids())
    return {
      per(requests) {
        const after = readCpuMs(server.memoryPids())
        return before === null || after === null ? { na: 'no /proc' } : (after - before) / requests
      },
    }
  }

  let counter = 0
  const newAccount = async (): Promise<{ account: Account; ms: number }> => {
    const n = counter++
    const res = await client.call<CreateAccountOutput>('com.atproto.server.createAccount', {
      body: { handle: `bench${n}.test`, email: `bench${n}@example.com`, password: PASSWORD },
    })
    return { account: res.body, ms: res.ms }
  }
  const post = (account: Account, i: number): Promise<{ ms: number; out: CreateRecordOutput }> =>
    client
      .call<CreateRecordOutput>('com.atproto.repo.createRecord', {
        token: account.accessJwt,
        body: {
          repo: account.did,
          collection: COLLECTION,
          record: {
            $type: COLLECTION,
            text: `Benchmark post number ${i}`,
            createdAt: new Date().toISOString(),
          },
        },
      })
      .then((res) => ({ ms: res.ms, out: res.body }))

  const phases: Phase[] = []
  const phase = (name: string, ids: string[], fn: () => Promise<void>): void => {
    phases.push({ name, writes: false, run: () => runPhase(name, ids, fn) })
  }
  const writingPhase = (name: string, ids: string[], fn: () => Promise<void>): void => {
    phases.push({ name, writes: true, run: () => runPhase(name, ids, fn) })
  }
  const runPhase = async (name: string, ids: string[], fn: () => Promise<void>): Promise<void> => {
    const started = performance.now()
    try {
      await fn()
    } catch (err) {
      const reason =
        err instanceof FirehoseUnavailableError
          ? err.reason
          : err instanceof XrpcError && err.status === 501
            ? 'not implemented: 501'
            : err instanceof XrpcError
              ? `failed: ${err.status}`
              : 'failed'
      for (const id of ids) if (results[id] === undefined) results[id] = { na: reason }
      if (!reason.startsWith('not implemented') && !(err instanceof FirehoseUnavailableError)) {
        failed = true
      }
      notes.push(`${server.kind}: ${name}: ${(err as Error).message}`)
    }
    log(`  ${server.kind}: ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }

  // Warm-up: JIT, connections, the first isolate and Durable Object, not measured; memory
  // is read before it.
  writingPhase('warm-up', ['memory.idle'], async () => {
    const idle = readMemory(server.memoryPids())
    results['memory.idle'] = idle ? idle.rssMb : { na: 'no /proc' }
    const warm = (await newAccount()).account
    for (let i = 0; i < cfg.warmupWrites; i++) {
      const { out } = await post(warm, i)
      await client.call('com.atproto.repo.getRecord', { params: recordParams(out.uri) })
    }
  })

  const pool: Account[] = []
  let seqAccount: Account | null = null
  const seqUris: string[] = []
  const seqLatencies: number[] = []

  writingPhase('accounts', ['createAccount.p50', 'createSession.p50'], async () => {
    const created: number[] = []
    const accounts: Account[] = []
    for (let i = 0; i < 12; i++) {
      const { account, ms } = await newAccount()
      accounts.push(account)
      created.push(ms)
    }
    results['createAccount.p50'] = median(created)
    const sessions: number[] = []
    for (let i = 0; i < cfg.sessions; i++) {
      const res = await client.call('com.atproto.server.createSession', {
        body: { identifier: accounts[0]!.handle, password: PASSWORD },
      })
      sessions.push(res.ms)
    }
    results['createSession.p50'] = median(sessions)
    pool.push(...accounts)
  })
  const take = async (): Promise<Account> => pool.shift() ?? (await newAccount()).account

  writingPhase(
    'sequential createRecord',
    [
      'createRecord.seq.p50',
      'createRecord.seq.p99',
      'createRecord.seq.rate',
      'createRecord.seq.cpu',
      'scale.empty.p50',
      'archive.puts.per1k',
    ],
    async () => {
      seqAccount = await take()
      const archivedBefore = (await server.archiveKeys?.(seqAccount.did))?.length ?? 0
      let lastRev = ''
      const cpu = serverCpu()
      const started = performance.now()
      for (let i = 0; i < cfg.sequentialWrites; i++) {
        const { ms, out } = await post(seqAccount, i)
        seqLatencies.push(ms)
        seqUris.push(out.uri)
        lastRev = out.commit?.rev ?? lastRev
      }
      const elapsed = performance.now() - started
      results['createRecord.seq.p50'] = median(seqLatencies)
      results['createRecord.seq.p99'] = quantile(seqLatencies, 0.99)
      results['createRecord.seq.rate'] = perSecond(cfg.sequentialWrites, elapsed)
      results['scale.empty.p50'] = median(seqLatencies.slice(0, cfg.scaleWrites))
      // The work the writes left behind (our R2 archive) counts too: until the server is idle.
      await waitForIdle(() => server.memoryPids())
      results['createRecord.seq.cpu'] = cpu.per(cfg.sequentialWrites)
      results['archive.puts.per1k'] = server.archiveKeys
        ? ((await archiveObjectsUntil(server.archiveKeys, seqAccount.did, lastRev)) -
            archivedBefore) *
          (1000 / cfg.sequentialWrites)
        : { na: 'not ours' }
    },
  )

  writingPhase('8 writers, one account', ['createRecord.oneAccount8.rate'], async () => {
    const account = await take()
    const { done, failures } = await writers(8, cfg.concurrentWritesPerWriter, () => account, post)
    if (failures.length > 0)
      notes.push(`${server.kind}: 8 writers, one account: ${summarize(failures)}`)
    results['createRecord.oneAccount8.rate'] = done
  })

  writingPhase('8 writers, 8 accounts', ['createRecord.eightAccounts.rate'], async () => {
    const accounts: Account[] = []
    for (let i = 0; i < 8; i++) accounts.push(await take())
    const { done, failures } = await writers(
      8,
      cfg.concurrentWritesPerWriter,
      (w) => accounts[w]!,
      post,
    )
    if (failures.length > 0)
      notes.push(`${server.kind}: 8 writers, 8 accounts: ${summarize(failures)}`)
    results['createRecord.eightAccounts.rate'] = done
  })

  phase(
    'getRecord',
    ['getRecord.p50', 'getRecord.p99', 'getRecord.rate', 'getRecord.cpu'],
    async () => {
      if (seqUris.length === 0) throw new Error('no records from the sequential phase')
      const order = shuffled(seqUris)
      const latencies: number[] = []
      const cpu = serverCpu()
      const started = performance.now()
      for (let i = 0; i < cfg.getRecords; i++) {
        const res = await client.call('com.atproto.repo.getRecord', {
          params: recordParams(order[i % order.length]!),
        })
        latencies.push(res.ms)
      }
      const elapsed = performance.now() - started
      results['getRecord.p50'] = median(latencies)
      results['getRecord.p99'] = quantile(latencies, 0.99)
      results['getRecord.rate'] = perSecond(cfg.getRecords, elapsed)
      results['getRecord.cpu'] = cpu.per(cfg.getRecords)
    },
  )

  phase('listRecords', ['listRecords.p50', 'listRecords.rate'], async () => {
    if (!seqAccount) throw new Error('no account from the sequential phase')
    const repo = (seqAccount as Account).did
    const latencies: number[] = []
    let records = 0
    const started = performance.now()
    for (let pass = 0; pass < cfg.listPasses; pass++) {
      // Exactly the pages that hold the records: a server that returns a cursor after the
      // last full page is not asked for an empty one.
      let cursor: string | undefined
      let seen = 0
      do {
        const res = await client.call<ListRecordsOutput>('com.atproto.repo.listRecords', {
          params: { repo, collection: COLLECTION, limit: 100, cursor },
        })
        latencies.push(res.ms)
        seen += res.body.records.length
        cursor = res.body.records.length > 0 ? res.body.cursor : undefined
      } while (cursor && seen < seqUris.length)
      records += seen
    }
    const elapsed = performance.now() - started
    if (records !== cfg.listPasses * seqUris.length) {
      notes.push(
        `${server.kind}: listRecords returned ${records} records over ${cfg.listPasses} passes of ${seqUris.length}`,
      )
    }
    results['listRecords.p50'] = median(latencies)
    results['listRecords.rate'] = perSecond(records, elapsed)
  })

  phase(
    'getRepo, 1,000 records',
    ['getRepo.1k.p50', 'getRepo.1k.throughput', 'getRepo.1k.size'],
    async () => {
      if (!seqAccount) throw new Error('no account from the sequential phase')
      Object.assign(
        results,
        await getRepo(client, (seqAccount as Account).did, cfg.getRepoRunsSmall, '1k'),
      )
    },
  )

  let large: Account | null = null
  writingPhase('build the 10,000-record repo', ['applyWrites.bulk.rate'], async () => {
    const account = await take()
    const started = performance.now()
    for (let done = 0; done < cfg.largeRepoRecords; done += BATCH) {
      const count = Math.min(BATCH, cfg.largeRepoRecords - done)
      await client.call('com.atproto.repo.applyWrites', {
        token: account.accessJwt,
        body: {
          repo: account.did,
          writes: Array.from({ length: count }, (_, i) => ({
            $type: 'com.atproto.repo.applyWrites#create',
            collection: COLLECTION,
            value: {
              $type: COLLECTION,
              text: `Bulk post number ${done + i}`,
              createdAt: new Date().toISOString(),
            },
          })),
        },
      })
    }
    results['applyWrites.bulk.rate'] = perSecond(cfg.largeRepoRecords, performance.now() - started)
    large = account
  })

  writingPhase('write cost at scale', ['scale.10k.p50', 'scale.ratio'], async () => {
    if (!large) throw new Error('the large repo was not built')
    const latencies: number[] = []
    for (let i = 0; i < cfg.scaleWrites; i++) latencies.push((await post(large, i)).ms)
    const atScale = median(latencies)
    results['scale.10k.p50'] = atScale
    const empty = results['scale.empty.p50']
    results['scale.ratio'] = typeof empty === 'number' ? atScale / empty : { na: 'no baseline' }
  })

  phase(
    'getRepo, 10,000 records',
    ['getRepo.10k.p50', 'getRepo.10k.throughput', 'getRepo.10k.size'],
    async () => {
      if (!large) throw new Error('the large repo was not built')
      Object.assign(
        results,
        await getRepo(client, (large as Account).did, cfg.getRepoRunsLarge, '10k'),
      )
    },
  )

  const firehoseIds = [
    'firehose.p50',
    'firehose.p99',
    'firehose.write.p50',
    'firehose.write.p99',
    'firehose.idle',
  ]
  const replayIds = ['firehose.replay.rate', 'firehose.replay.events']
  let lastSeq = -1
  writingPhase('firehose delivery', [...firehoseIds, ...replayIds], async () => {
    const account = await take()
    const sub = await FirehoseSubscriber.open(server.url)
    try {
      await sleep(200)
      // Per write: from its response to its frame (0 when the frame came first), and from
      // its request to its frame (the whole way from the client to a subscriber).
      const deliver = async (
        i: number,
      ): Promise<{ afterAnswer: number; fromRequest: number } | null> => {
        const sent = performance.now()
        const { out } = await post(account, i)
        const answered = performance.now()
        const rev = out.commit?.rev
        const frame = await sub.waitFor(
          (f) => f.type === '#commit' && f.repo === account.did && (rev ? f.rev === rev : true),
          10_000,
        )
        return frame
          ? { afterAnswer: Math.max(0, frame.at - answered), fromRequest: frame.at - sent }
          : null
      }
      const afterAnswer: number[] = []
      const fromRequest: number[] = []
      let missed = 0
      for (let i = 0; i < cfg.firehoseWrites; i++) {
        const latency = await deliver(i)
        if (latency === null) missed++
        else {
          afterAnswer.push(latency.afterAnswer)
          fromRequest.push(latency.fromRequest)
        }
      }
      const idle: number[] = []
      for (let i = 0; i < cfg.idleSamples; i++) {
        await sleep(cfg.idleMs)
        const latency = await deliver(cfg.firehoseWrites + i)
        if (latency === null) missed++
        else idle.push(latency.afterAnswer)
      }
      if (missed > 0)
        notes.push(`${server.kind}: firehose: ${missed} writes never seen within 10 s`)
      if (sub.errors.length > 0) {
        notes.push(`${server.kind}: firehose: ${sub.errors.slice(0, 3).join('; ')}`)
      }
      if (afterAnswer.length === 0) throw new Error('no commit frame arrived')
      results['firehose.p50'] = median(afterAnswer)
      results['firehose.p99'] = quantile(afterAnswer, 0.99)
      results['firehose.write.p50'] = median(fromRequest)
      results['firehose.write.p99'] = quantile(fromRequest, 0.99)
      results['firehose.idle'] = idle.length > 0 ? Math.max(...idle) : { na: 'no frame' }
      lastSeq = sub.lastSeq
    } finally {
      sub.close()
    }
  })

  phase('firehose replay from cursor 0', replayIds, async () => {
    // Without a live stream the firehose phase already filled these cells.
    if (lastSeq < 0) return
    const started = performance.now()
    const sub = await FirehoseSubscriber.open(server.url, 0)
    try {
      const last = await sub.waitFor((f) => f.seq !== null && f.seq >= lastSeq, 180_000)
      const frames = sub.frames.length
      const end = last ? last.at : (sub.frames.at(-1)?.at ?? performance.now())
      if (!last)
        notes.push(`${server.kind}: replay stopped before seq ${lastSeq} (got ${frames} events)`)
      results['firehose.replay.events'] = frames
      results['firehose.replay.rate'] = perSecond(frames, end - started)
    } finally {
      sub.close()
    }
  })

  return {
    phases,
    finish: () => {
      memory()
      return { results, notes, failed }
    },
  }
}

/** `writers` loops of `each` createRecord calls at once; records/s over the whole phase. */
async function writers(
  count: number,
  each: number,
  accountFor: (writer: number) => Account,
  post: (account: Account, i: number) => Promise<unknown>,
): Promise<{ done: number; failures: string[] }> {
  const failures: string[] = []
  let ok = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: count }, async (_, w) => {
      for (let i = 0; i < each; i++) {
        try {
          await post(accountFor(w), w * each + i)
          ok++
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
    }),
  )
  if (ok === 0) throw new Error(`every write failed: ${failures[0]}`)
  return { done: perSecond(ok, performance.now() - started), failures }
}

async function getRepo(
  client: XrpcClient,
  did: string,
  runs: number,
  key: '1k' | '10k',
): Promise<Record<string, Cell>> {
  const times: number[] = []
  let size = 0
  for (let i = 0; i < runs; i++) {
    const res = await client.call<Uint8Array>('com.atproto.sync.getRepo', {
      params: { did },
      binary: true,
    })
    times.push(res.ms)
    size = res.bytes
  }
  const p50 = median(times)
  return {
    [`getRepo.${key}.p50`]: p50,
    [`getRepo.${key}.throughput`]: size / 1e6 / (p50 / 1000),
    [`getRepo.${key}.size`]: size / 1e6,
  }
}

/**
 * How many archive objects the account has once one holds `rev` (its key names the last rev
 * it holds): the alarm archives a tail of fewer than 32 commits up to 10 s later.
 */
async function archiveObjectsUntil(
  keysOf: (did: string) => Promise<string[]>,
  did: string,
  rev: string,
): Promise<number> {
  const deadline = performance.now() + 20_000
  for (;;) {
    const keys = await keysOf(did)
    if (keys.some((key) => key.includes(rev)) || performance.now() > deadline) {
      return keys.length
    }
    await sleep(500)
  }
}

function recordParams(uri: string): Record<string, string> {
  const [repo, collection, rkey] = uri.replace('at://', '').split('/')
  return { repo: repo!, collection: collection!, rkey: rkey! }
}

/** A fixed pseudo-random order, the same for every server. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items]
  let seed = 42
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    const j = seed % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function summarize(failures: string[]): string {
  const counts = new Map<string, number>()
  for (const failure of failures) counts.set(failure, (counts.get(failure) ?? 0) + 1)
  return [...counts].map(([message, n]) => `${n}× ${message}`).join('; ')
}
