/**
 * Replay from cursor 0, again and again: fills the event log as the bench's workload does
 * (sequential posts, then commits of 200 records), then opens a subscriber with `cursor=0`
 * `--runs` times, one after another, and prints for each run how long the upgrade took, the
 * events per second to the last frame, the bytes received, and the CPU of workerd and of this
 * process (the subscriber) over the run: where the time went.
 *
 *   npm run bench:replay
 *   npm run bench:replay -- --variant=paced: --variant=fast:PDS_FIREHOSE_CONSUMER_MIBPS=1024
 *
 * Each `--variant=name:VAR=value,...` is a server of its own with those settings (and
 * `--root=dir` builds another checkout); the variants take turns run by run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildWorker } from './build.ts'
import { XrpcClient } from './client.ts'
import { FirehoseSubscriber } from './firehose.ts'
import { addPostBatches, postingAccount } from './posting-account.ts'
import { findChildren, readCpuMs, waitForIdle } from './processes.ts'
import { type BenchServer, startDirect } from './servers.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    variant: { type: 'string', multiple: true },
    posts: { type: 'string', default: '2000' },
    batches: { type: 'string', default: '50' },
    runs: { type: 'string', default: '8' },
  },
})

const variants = (values.variant ?? ['default:']).map((spec) => {
  const at = spec.indexOf(':')
  const vars = Object.fromEntries(
    spec
      .slice(at + 1)
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  )
  return { name: spec.slice(0, at), vars }
})

interface Running {
  name: string
  server: BenchServer
  pid: number
  rates: number[]
}

const buildDir = mkdtempSync(join(tmpdir(), 'edge-pds-replay-'))
const bundle = buildWorker(buildDir, values.root ? { root: resolve(values.root) } : {})
const running: Running[] = []
try {
  for (const variant of variants) {
    const before = new Set(findChildren(process.pid, 'workerd'))
    const server = await startDirect(bundle, { vars: variant.vars })
    const pid = findChildren(process.pid, 'workerd').find((p) => !before.has(p))
    if (pid === undefined) throw new Error(`no workerd process for ${variant.name}`)
    await fill(new XrpcClient(server.url))
    running.push({ name: variant.name, server, pid, rates: [] })
  }
  for (let run = 0; run < Number(values.runs); run++) {
    for (const v of running) {
      const pids = () => [v.pid]
      await waitForIdle(pids)
      const serverCpu = readCpuMs(pids()) ?? 0
      const clientCpu = process.cpuUsage()
      const started = performance.now()
      const sub = await FirehoseSubscriber.open(v.server.url, 0)
      const opened = performance.now() - started
      let last = started
      sub.onFrame((frame) => {
        last = frame.at
      })
      // The log's end is not announced: the replay is over when nothing came for a second.
      while (performance.now() - last < 1000) await new Promise((r) => setTimeout(r, 50))
      const cpu = process.cpuUsage(clientCpu)
      sub.close()
      const events = sub.frames.length
      const bytes = sub.frames.reduce((sum, frame) => sum + frame.bytes, 0)
      const seconds = (last - started) / 1000
      await waitForIdle(pids)
      v.rates.push(events / seconds)
      console.log(
        `run ${run + 1} ${v.name}: ${events} events, ${(bytes / 1048576).toFixed(1)} MiB in ` +
          `${seconds.toFixed(2)} s (upgrade ${opened.toFixed(0)} ms): ${(events / seconds).toFixed(0)} events/s; ` +
          `CPU workerd ${((readCpuMs(pids()) ?? 0) - serverCpu).toFixed(0)} ms, ` +
          `subscriber ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
      )
    }
  }
  for (const v of running) {
    console.log(
      `${v.name}: median ${median(v.rates).toFixed(0)} events/s, ` +
        `min ${Math.min(...v.rates).toFixed(0)}, max ${Math.max(...v.rates).toFixed(0)}`,
    )
  }
} finally {
  for (const v of running) await v.server.stop()
  rmSync(buildDir, { recursive: true, force: true })
}
process.exit(0)

/** An account with `--posts` sequential posts, then `--batches` commits of 200 posts. */
async function fill(client: XrpcClient): Promise<void> {
  const { account } = await postingAccount(client, 'replay', Number(values.posts))
  await addPostBatches(client, account, Number(values.batches))
}
