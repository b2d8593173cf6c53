/**
 * Where our Worker spends its CPU: runs one request type against the Worker directly in
 * workerd with the DevTools inspector open, records a CPU profile of every isolate (the
 * Worker and its Durable Objects, and Miniflare's D1/R2 simulators), writes them to
 * bench/results/*.cpuprofile (open them in Chrome DevTools), and prints the self time per
 * source module of the bundle and per function.
 *
 *   npx node --experimental-strip-types bench/profile.ts [createRecord|getRecord|listRecords|replay] [count]
 *
 * `replay` adds 50 commits of 200 records to the 200 posts and replays the firehose from
 * cursor 0 `count` times (one subscriber after another).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildWorker } from './build.ts'
import { XrpcClient } from './client.ts'
import { FirehoseSubscriber } from './firehose.ts'
import { addPostBatches, postingAccount } from './posting-account.ts'
import { freePort } from './processes.ts'
import { benchDir } from './reference-install.ts'
import { startDirect } from './servers.ts'
import { median } from './stats.ts'

const scenario = process.argv[2] ?? 'createRecord'
const count = Number(process.argv[3] ?? 500)
const SCENARIOS = ['createRecord', 'getRecord', 'listRecords', 'replay']
if (!SCENARIOS.includes(scenario)) {
  console.error(`scenario: one of ${SCENARIOS.join(', ')}`)
  process.exit(2)
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
class Inspector {
  private nextId = 1
  private readonly pending = new Map<number, (result: unknown) => void>()
  private readonly socket: WebSocket

  private constructor(socket: WebSocket) {
    this.socket = socket
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
      if (message.id !== undefined) this.pending.get(message.id)?.(message.result)
    })
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true })
      socket.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), {
        once: true,
      })
    })
    return new Inspector(socket)
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, (result) => resolve(result as T))
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  close(): void {
    this.socket.close()
  }
}

const buildDir = mkdtempSync(join(tmpdir(), 'edge-pds-profile-'))
const bundle = buildWorker(buildDir)
const inspectorPort = await freePort()
const server = await startDirect(bundle, { inspectorPort })
try {
  const client = new XrpcClient(server.url)
  const { account, post, uris } = await postingAccount(client, 'profiler')
  // The large events of the bench's workload (its applyWrites phase).
  if (scenario === 'replay') await addPostBatches(client, account, 50)
  const request = (i: number): Promise<{ ms: number }> => {
    if (scenario === 'createRecord') return post(i)
    if (scenario === 'replay') return replayAll(server.url)
    if (scenario === 'listRecords') {
      return client.call('com.atproto.repo.listRecords', {
        params: { repo: account.did, collection: 'app.bsky.feed.post', limit: 100 },
      })
    }
    const [repo, collection, rkey] = uris[i % uris.length]!.slice('at://'.length).split('/')
    return client.call('com.atproto.repo.getRecord', { params: { repo, collection, rkey } })
  }
  for (let i = 0; i < (scenario === 'replay' ? 1 : 100); i++) await request(i)

  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    title: string
    webSocketDebuggerUrl: string
  }[]
  const chosen = process.env.PROFILE_ALL
    ? targets
    : targets.filter((t) => t.title.includes('core:user'))
  const sessions = await Promise.all(
    chosen.map(async (t) => ({
      title: t.title,
      inspector: await Inspector.connect(t.webSocketDebuggerUrl),
    })),
  )
  for (const { inspector } of sessions) {
    await inspector.send('Profiler.enable')
    await inspector.send('Profiler.setSamplingInterval', { interval: 200 })
    await inspector.send('Profiler.start')
  }
  const latencies: number[] = []
  const started = performance.now()
  for (let i = 0; i < count; i++) latencies.push((await request(i)).ms)
  const elapsed = performance.now() - started
  const profiles = await Promise.all(
    sessions.map(async ({ title, inspector }) => {
      const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop')
      inspector.close()
      return { title, profile }
    }),
  )

  console.log(
    `${scenario} ×${count}: p50 ${median(latencies).toFixed(2)} ms, ${((count * 1000) / elapsed).toFixed(0)}/s; CPU per request by isolate and module:`,
  )
  const modules = moduleMap(readFileSync(bundle, 'utf8'))
  const outDir = join(benchDir, 'results')
  mkdirSync(outDir, { recursive: true })
  for (const { title, profile } of profiles) {
    const safe = title.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')
    writeFileSync(join(outDir, `${scenario}-${safe}.cpuprofile`), JSON.stringify(profile))
    report(title, profile, modules, count)
  }
  console.log(`\nProfiles written to bench/results/${scenario}-*.cpuprofile`)
} finally {
  await server.stop()
  rmSync(buildDir, { recursive: true, force: true })
}
process.exit(0)

/** A subscriber from cursor 0 until nothing came for half a second; its time to the last frame. */
async function replayAll(url: string): Promise<{ ms: number }> {
  const started = performance.now()
  const sub = await FirehoseSubscriber.open(url, 0)
  let last = performance.now()
  sub.onFrame((frame) => {
    last = frame.at
  })
  while (performance.now() - last < 500) await new Promise((r) => setTimeout(r, 50))
  sub.close()
  return { ms: last - started }
}

/** The bundle's `// src/repo/mst/mst.ts` markers: where each source module starts. */
function moduleMap(code: string): { line: number; name: string }[] {
  const out: { line: number; name: string }[] = []
  code.split('\n').forEach((text, line) => {
    const match = /^\/\/ ((?:src|worker|node_modules)\/\S+)$/.exec(text)
    if (match) out.push({ line, name: match[1]! })
  })
  return out
}

function moduleOf(modules: { line: number; name: string }[], node: ProfileNode): string {
  const { url, lineNumber, functionName } = node.callFrame
  if (!url) return functionName || '(native)'
  if (!url.endsWith('index.js') || modules.length === 0) return url.split('/').slice(-2).join('/')
  let found = '(bundle)'
  for (const m of modules) {
    if (m.line > lineNumber) break
    found = m.name
  }
  // node_modules/<pkg>/... → the package; src/a/b.ts stays whole.
  const parts = found.split('/')
  if (parts[0] === 'node_modules')
    return parts[1]!.startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1]!
  return found
}

function report(
  title: string,
  profile: CpuProfile,
  modules: { line: number; name: string }[],
  requests: number,
): void {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfByModule = new Map<string, number>()
  const selfByFunction = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id)
    const micros = profile.timeDeltas[i] ?? 0
    if (!node || node.callFrame.functionName === '(idle)') return
    busy += micros
    const module = moduleOf(modules, node)
    selfByModule.set(module, (selfByModule.get(module) ?? 0) + micros)
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${module}`
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + micros)
  })
  if (busy === 0) return
  const perRequest = (micros: number): string => `${(micros / requests / 1000).toFixed(3)} ms`
  console.log(`\n${title}: ${perRequest(busy)} of CPU per request`)
  const top = (map: Map<string, number>, n: number): void => {
    for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(
        `  ${perRequest(micros).padStart(10)}  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${name}`,
      )
    }
  }
  top(selfByModule, 15)
  console.log('  by function:')
  top(selfByFunction, 12)
}
