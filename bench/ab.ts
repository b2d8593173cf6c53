/**
 * A/B of builds on one request type: each variant's Worker runs directly in workerd (as the
 * bench's `ours (workerd)` server), all started first; then they take turns, round after round
 * (the order rotating), each running the same requests while its own workerd process's CPU is
 * read from /proc. Load that comes and goes on the machine falls on every variant alike.
 *
 *   npm run bench:ab -- --variant=before:/tmp/old --variant=after:. --scenario=getRecord
 *
 * A variant is `name:dir`, a checkout of the project (`git archive <commit> | tar -x -C dir`
 * and a `node_modules` link); this tree's wrangler.toml and migrations are used for all.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildWorker } from './build.ts'
import { XrpcClient } from './client.ts'
import { postingAccount } from './posting-account.ts'
import { findChildren, readCpuMs, waitForIdle } from './processes.ts'
import { type BenchServer, startDirect } from './servers.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true },
    scenario: { type: 'string', default: 'getRecord' },
    rounds: { type: 'string', default: '6' },
    count: { type: 'string', default: '1000' },
  },
})
const SCENARIOS = ['getRecord', 'createRecord', 'listRecords']
const scenario = values.scenario!
if (!SCENARIOS.includes(scenario)) {
  console.error(`--scenario: one of ${SCENARIOS.join(', ')}`)
  process.exit(2)
}
const rounds = Number(values.rounds)
const count = Number(values.count)
const variants = (values.variant ?? ['this:.']).map((spec) => {
  const at = spec.indexOf(':')
  if (at < 1) throw new Error(`--variant=name:dir, got ${spec}`)
  return { name: spec.slice(0, at), dir: resolve(spec.slice(at + 1)) }
})

interface Running {
  name: string
  server: BenchServer
  pid: number
  request: (i: number) => Promise<{ ms: number }>
  cpuPerRequest: number[]
  p50: number[]
}

const buildRoot = mkdtempSync(join(tmpdir(), 'edge-pds-ab-'))
const running: Running[] = []
try {
  for (const [i, variant] of variants.entries()) {
    const bundle = buildWorker(join(buildRoot, String(i)), { root: variant.dir })
    const before = new Set(findChildren(process.pid, 'workerd'))
    const server = await startDirect(bundle)
    const pid = findChildren(process.pid, 'workerd').find((p) => !before.has(p))
    if (pid === undefined) throw new Error(`no workerd process for ${variant.name}`)
    const request = await prepare(new XrpcClient(server.url), i)
    running.push({ name: variant.name, server, pid, request, cpuPerRequest: [], p50: [] })
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < running.length; k++) {
      const v = running[(round + k) % running.length]!
      await waitForIdle(() => [v.pid])
      const cpuBefore = readCpuMs([v.pid]) ?? 0
      const latencies: number[] = []
      for (let i = 0; i < count; i++) latencies.push((await v.request(i)).ms)
      await waitForIdle(() => [v.pid])
      const cpu = (readCpuMs([v.pid]) ?? 0) - cpuBefore
      v.cpuPerRequest.push(cpu / count)
      v.p50.push(median(latencies))
      console.log(
        `round ${round + 1} ${v.name}: CPU ${(cpu / count).toFixed(3)} ms/request, p50 ${median(latencies).toFixed(2)} ms`,
      )
    }
  }
  console.log(`\n${scenario} ×${count}, ${rounds} rounds: median of the rounds (min-max)`)
  const base = median(running[0]!.cpuPerRequest)
  for (const v of running) {
    const cpu = median(v.cpuPerRequest)
    console.log(
      `${v.name.padEnd(12)} CPU ${cpu.toFixed(3)} ms/request (${Math.min(...v.cpuPerRequest).toFixed(3)}-${Math.max(...v.cpuPerRequest).toFixed(3)}), ` +
        `p50 ${median(v.p50).toFixed(2)} ms (${Math.min(...v.p50).toFixed(2)}-${Math.max(...v.p50).toFixed(2)}), ` +
        `CPU ×${(cpu / base).toFixed(3)} of ${running[0]!.name}`,
    )
  }
} finally {
  for (const v of running) await v.server.stop()
  rmSync(buildRoot, { recursive: true, force: true })
}
process.exit(0)

/** An account with 200 posts, and the scenario's request. */
async function prepare(
  client: XrpcClient,
  n: number,
): Promise<(i: number) => Promise<{ ms: number }>> {
  const { account, post, uris } = await postingAccount(client, `ab${n}`)
  const request = (i: number): Promise<{ ms: number }> => {
    if (scenario === 'createRecord') return post(i)
    if (scenario === 'listRecords') {
      return client.call('com.atproto.repo.listRecords', {
        params: { repo: account.did, collection: 'app.bsky.feed.post', limit: 100 },
      })
    }
    const [repo, collection, rkey] = uris[(i * 7) % uris.length]!.slice('at://'.length).split('/')
    return client.call('com.atproto.repo.getRecord', { params: { repo, collection, rkey } })
  }
  for (let i = 0; i < 100; i++) await request(i)
  return request
}
