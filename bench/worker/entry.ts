/**
 * The Worker entry of the bench build (`npm run bench:hops`, `npm run bench -- --latency=...`):
 * the production Worker and Durable Objects, each given an `env` whose bindings are
 * instrumented (bench/worker/instrument.ts), plus two bench routes:
 *
 *   GET  /_bench/trace            the hops recorded since the last call (and forgets them)
 *   POST /_bench/latency?spec=... the injected latency per hop kind (`in-colo:2,d1:20,do:40`)
 *
 * `BENCH_LATENCY` in the Worker's vars sets the latency from the start.
 */
import { AccountDurableObject as Account } from '../../worker/account-durable-object.ts'
import worker from '../../worker/index.ts'
import { SequencerDurableObject as Sequencer } from '../../worker/sequencer-durable-object.ts'
import {
  instrumentEnv,
  instrumentFetch,
  setLatency,
  takeTrace,
  traceRequest,
} from './instrument.ts'

type BenchEnv = Env & { BENCH_LATENCY?: string }

let configured = false

function configure(env: BenchEnv): void {
  if (configured) return
  configured = true
  setLatency(env.BENCH_LATENCY)
  instrumentFetch()
}

export class AccountDurableObject extends Account {
  constructor(ctx: DurableObjectState, env: BenchEnv) {
    configure(env)
    super(ctx, instrumentEnv(env, 'account'))
  }
}

export class SequencerDurableObject extends Sequencer {
  constructor(ctx: DurableObjectState, env: BenchEnv) {
    configure(env)
    super(ctx, instrumentEnv(env, 'sequencer'))
  }
}

export default {
  async fetch(request, env: BenchEnv, ctx) {
    configure(env)
    const url = new URL(request.url)
    if (url.pathname === '/_bench/trace') return Response.json(takeTrace())
    if (url.pathname === '/_bench/latency' && request.method === 'POST') {
      try {
        return Response.json(setLatency(url.searchParams.get('spec') ?? ''))
      } catch (err) {
        return Response.json({ error: (err as Error).message }, { status: 400 })
      }
    }
    return traceRequest(url.pathname, () =>
      Promise.resolve(worker.fetch(request, instrumentEnv(env, 'worker'), ctx)),
    )
  },
  scheduled(controller, env: BenchEnv, ctx) {
    configure(env)
    return worker.scheduled(controller, instrumentEnv(env, 'worker'), ctx)
  },
} satisfies ExportedHandler<BenchEnv>
