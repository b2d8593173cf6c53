/**
 * `npm run bench`: our PDS and the reference PDS side by side, the same workload against each
 * (see bench/README.md). Prints the table and writes bench/results/latest.json.
 *
 *   npm run bench                       all three servers, full workload (about 5 minutes)
 *   npm run bench -- --quick            a tenth of the work, to try the harness
 *   npm run bench -- --only=reference,direct
 *   npm run bench -- --readme           also put the table into bench/README.md
 *   npm run bench -- --latency=in-colo:2,d1:20,do:40
 *                                       ours with that latency per round trip (the bench build,
 *                                       bench/worker/); writes bench/results/latency.json
 *
 * A benchmark, not a test: it exits 0 whatever the numbers are. `--quick` writes
 * bench/results/quick.json (not kept) instead of latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ARCHIVE_MAX_WAIT_MS } from '../src/account/alarm.ts'
import { buildBenchWorker, buildWorker } from './build.ts'
import { hopFigures } from './hop-count.ts'
import { METRICS, type Results } from './metrics.ts'
import { sleep, waitForIdle } from './processes.ts'
import { benchDir, ensureReferenceInstalled, type ReferenceRuntime } from './reference-install.ts'
import { type BenchRun, machineLine, textTable, updateReadme } from './report.ts'
import {
  type BenchServer,
  type ServerKind,
  startDev,
  startDirect,
  startReference,
} from './servers.ts'
import { FULL_WORKLOAD, planWorkload, QUICK_WORKLOAD } from './workload.ts'

const KINDS: ServerKind[] = ['reference', 'direct', 'dev']
/** At least this pause after each phase, then until every server is idle. */
const SETTLE_MS = 1500

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    readme: { type: 'boolean', default: false },
    latency: { type: 'string' },
  },
})
const only = values.only ? values.only.split(',').map((s) => s.trim()) : KINDS
const unknown = only.filter((k) => !KINDS.includes(k as ServerKind))
if (unknown.length > 0) {
  console.error(`unknown server(s): ${unknown.join(', ')} (choose from ${KINDS.join(', ')})`)
  process.exit(2)
}
const kinds = KINDS.filter((k) => only.includes(k))
const workload = values.quick ? QUICK_WORKLOAD : FULL_WORKLOAD
const log = (line: string): void => console.log(line)

const run: BenchRun = {
  date: new Date().toISOString(),
  machine: {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
  },
  workload: values.quick ? 'quick' : 'full',
  servers: {},
  notes: [],
}
log(`Benchmark on ${machineLine(run)}`)

let reference: ReferenceRuntime | null = null
if (kinds.includes('reference')) {
  try {
    reference = ensureReferenceInstalled(log)
    run.machine.referenceNode = reference.version
  } catch (err) {
    // Ours is still measured; the reference column says why it is empty.
    console.error((err as Error).message)
    run.notes.push(`reference: not installed: ${(err as Error).message.split('\n')[0]}`)
    run.servers.reference = allNa('not installed')
    kinds.splice(kinds.indexOf('reference'), 1)
  }
}

const buildDir = mkdtempSync(join(tmpdir(), 'edge-pds-bench-build-'))
const servers: BenchServer[] = []
let stopping: Promise<void> | null = null
const stopAll = (): Promise<void> => {
  stopping ??= (async () => {
    for (const server of servers.splice(0)) await server.stop().catch(() => {})
    rmSync(buildDir, { recursive: true, force: true })
  })()
  return stopping
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers`)
    void stopAll().then(() => process.exit(130))
  })
}

try {
  for (const kind of kinds) {
    log(`${kind}: starting`)
    try {
      const server =
        kind === 'reference'
          ? await startReference(reference!.node)
          : kind === 'direct'
            ? await startDirect(
                values.latency ? buildBenchWorker(buildDir) : buildWorker(buildDir),
                { vars: values.latency ? { BENCH_LATENCY: values.latency } : {} },
              )
            : await startDev()
      servers.push(server)
      log(`${kind}: ${server.url}`)
    } catch (err) {
      const message = (err as Error).message
      run.notes.push(`${kind}: did not start: ${message.split('\n')[0]}`)
      console.error(message)
      run.servers[kind] = allNa('did not start')
    }
  }
  const plans = servers.map((server) => ({ server, plan: planWorkload(server, workload, log) }))
  const phaseCount = plans[0]?.plan.phases.length ?? 0
  for (let i = 0; i < phaseCount; i++) {
    // Servers take turns, phase by phase, starting with a different one each time.
    for (let j = 0; j < plans.length; j++) {
      const { server, plan } = plans[(i + j) % plans.length]!
      const phase = plan.phases[i]!
      await phase.run()
      // Background work a phase leaves (our R2 archive alarm, the reference's own) settles
      // before the next server is measured. Our account objects hold fewer than
      // SEGMENT_MIN_COMMITS commits up to ARCHIVE_MAX_WAIT_MS for more: after a phase that
      // wrote, that last put can come that late, past any quiet spell, and would land in
      // the next phase (on one thread locally; not in production, where R2's work is not on
      // the reader's path).
      const archiveWait = phase.writes && server.kind !== 'reference' ? ARCHIVE_MAX_WAIT_MS : 0
      await sleep(SETTLE_MS + archiveWait)
      const waited = await waitForIdle(() => servers.flatMap((s) => s.memoryPids()))
      if (waited > 3000)
        log(`  (servers busy for ${(waited / 1000).toFixed(1)} s after that phase)`)
    }
  }
  for (const { server, plan } of plans) {
    const report = plan.finish()
    run.servers[server.kind] = report.results
    run.notes.push(...report.notes)
    const serverLog = server.log().trim()
    if (report.failed && serverLog) {
      log(
        `${server.kind}: server output (last lines):\n${serverLog.split('\n').slice(-20).join('\n')}`,
      )
    }
  }
  if (values.latency) run.notes.push(`ours (workerd): latency injected per hop: ${values.latency}`)
  if (run.servers.direct) {
    log('direct: counting round trips (bench build)')
    Object.assign(run.servers.direct, await hopFigures(buildDir))
  }
} finally {
  await stopAll()
}

log(`\n${textTable(run)}`)
if (run.notes.length > 0) log(`\nNotes:\n${run.notes.map((n) => `- ${n}`).join('\n')}`)
log('\nours / ref: our Worker directly in workerd divided by the reference PDS.')

const resultsDir = join(benchDir, 'results')
mkdirSync(resultsDir, { recursive: true })
const output = { ...run, metrics: METRICS }
const rounded = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(3)) : value
// A quick run is for trying the harness: it does not replace the figures kept in git.
const file = values.latency ? 'latency.json' : values.quick ? 'quick.json' : 'latest.json'
writeFileSync(join(resultsDir, file), `${JSON.stringify(output, rounded, 2)}\n`)
log(`Wrote bench/results/${file}`)
if (values.readme) {
  const updated = updateReadme(join(benchDir, 'README.md'), run)
  log(updated ? 'Updated bench/README.md' : 'bench/README.md has no results markers: not updated')
}
// Miniflare and the PLC directories may leave handles open.
process.exit(0)

function allNa(reason: string): Results {
  return Object.fromEntries(METRICS.map((def) => [def.id, { na: reason }]))
}
