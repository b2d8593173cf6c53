/**
 * `npm run bench:hops`: the round trips of each common method (bench/README.md "Round trips").
 *
 *   npm run bench:hops                                       the hop table
 *   npm run bench:hops -- --latency=in-colo:2,d1:20,do:40    and p50/p99 per method, locally
 *                                                            and with that latency per hop
 *   npm run bench:hops -- --rounds=50 --json=out.json
 *   npm run bench:hops -- --rate-limits=off                  as `npm run bench` runs (no counters)
 *
 * Rate limits are on by default, as in production, with maxima no run reaches: their counters
 * in D1 are round trips of every limited call.
 * Runs the bench build (bench/worker/entry.ts) in workerd as `npm run bench`'s `direct` server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  countHops,
  type MethodTimes,
  prepareHopState,
  setLatency,
  startHopServer,
  timeMethods,
} from './hop-count.ts'

const { values } = parseArgs({
  options: {
    latency: { type: 'string' },
    rounds: { type: 'string', default: '40' },
    json: { type: 'string' },
    'rate-limits': { type: 'string', default: 'on' },
  },
})

const buildDir = mkdtempSync(join(tmpdir(), 'edge-pds-bench-hops-'))
const server = await startHopServer(buildDir, values['rate-limits'] !== 'off')
try {
  const state = await prepareHopState(server.url)
  const hops = await countHops(state)
  console.log(
    '\n| method | round trips in order (`→` one after the other, `‖` in parallel, `{}` made by the called object) | critical path | total | after the response |',
  )
  console.log('|---|---|---:|---:|---|')
  for (const h of hops) {
    console.log(
      `| ${h.method} | ${h.path || '(none)'} | ${h.critical} | ${h.total} | ${h.afterText} |`,
    )
  }
  let times: { local: MethodTimes[]; injected: MethodTimes[] } | null = null
  if (values.latency) {
    const rounds = Number(values.rounds)
    await setLatency(server.url, '')
    const local = await timeMethods(state, rounds)
    await setLatency(server.url, values.latency)
    const injected = await timeMethods(state, rounds)
    await setLatency(server.url, '')
    times = { local, injected }
    console.log(`\n${rounds} calls per method; latency injected per hop: ${values.latency}\n`)
    console.log('| method | critical path | local p50 / p99 ms | injected p50 / p99 ms |')
    console.log('|---|---:|---:|---:|')
    for (const [i, h] of hops.entries()) {
      const l = local[i]!
      const r = injected[i]!
      console.log(
        `| ${h.method} | ${h.critical} | ${l.p50.toFixed(1)} / ${l.p99.toFixed(1)} | ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} |`,
      )
    }
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ hops, times }, null, 2)}\n`)
} catch (err) {
  console.error(`${(err as Error).stack}\nserver output:\n${server.log()}`)
  process.exitCode = 1
} finally {
  await server.stop()
  rmSync(buildDir, { recursive: true, force: true })
}
process.exit()
