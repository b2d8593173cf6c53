/**
 * The bench build's instruments (`npm run bench:hops`): every call through a binding (D1, R2,
 * Durable Object stubs) and every outbound `fetch` is recorded as one round trip, with a
 * sequence number at its start and end so that calls in flight together show as overlapping,
 * and can be delayed by a latency per kind of hop to mimic production's network.
 *
 * Only `bench/worker/entry.ts` imports this: the production bundle has none of it.
 *
 * @NOTE Locally the Worker and its Durable Objects run in one isolate, so one module-level log
 * sees the hops of all of them in one order. The bench sends one request at a time, so every
 * hop recorded while a request is open belongs to it.
 */
import type { Hop, HopKind, Place, RequestMark, Trace } from '../hop-trace.ts'

/** Injected delay per hop kind, in milliseconds; `in-colo` is the default for kinds not named. */
export type Latency = Partial<Record<HopKind | 'in-colo', number>>

const MAX_HOPS = 100_000
let seq = 0
let trace: Trace = { requests: [], hops: [] }
let latency: Latency = {}

export function takeTrace(): Trace {
  const taken = trace
  trace = { requests: [], hops: [] }
  return taken
}

export function setLatency(spec: string | undefined): Latency {
  latency = parseLatency(spec ?? '')
  return latency
}

/** `in-colo:2,d1:20,do:40` → `{ 'in-colo': 2, d1: 20, do: 40 }`. */
export function parseLatency(spec: string): Latency {
  const out: Latency = {}
  for (const part of spec.split(',')) {
    const [name, ms] = part.split(':').map((s) => s.trim())
    if (!name) continue
    if (!['in-colo', 'd1', 'r2', 'do', 'fetch'].includes(name) || !Number.isFinite(Number(ms))) {
      throw new Error(`bad latency spec "${part}" (kinds: in-colo, d1, r2, do, fetch)`)
    }
    out[name as keyof Latency] = Number(ms)
  }
  return out
}

function delayFor(kind: HopKind): number {
  return latency[kind] ?? latency['in-colo'] ?? 0
}

/** Runs one incoming request, marking its start and end in the log. */
export async function traceRequest(path: string, run: () => Promise<Response>): Promise<Response> {
  // Nobody reads the trace in a plain `npm run bench -- --latency`: keep it bounded.
  if (trace.hops.length > MAX_HOPS) takeTrace()
  const mark: RequestMark = { path, start: ++seq, end: 0 }
  trace.requests.push(mark)
  try {
    return await run()
  } finally {
    mark.end = ++seq
  }
}

/** One round trip: recorded, and delayed by its kind's latency before it is sent. */
async function hop<T>(
  from: Place,
  kind: HopKind,
  op: string,
  to: Place | null,
  call: () => Promise<T>,
): Promise<T> {
  const entry: Hop = {
    from,
    kind,
    op,
    to,
    start: ++seq,
    end: 0,
    startMs: Date.now(),
    endMs: 0,
    failed: false,
  }
  trace.hops.push(entry)
  try {
    const ms = delayFor(kind)
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    return await call()
  } catch (err) {
    entry.failed = true
    throw err
  } finally {
    entry.end = ++seq
    entry.endMs = Date.now()
  }
}

type AnyFn = (...args: unknown[]) => unknown

/**
 * A view of `target` whose methods in `calls` become hops (and whose `wrap` methods return
 * wrapped objects); everything else is the target's own, bound to it (native bindings refuse
 * to be called on a Proxy).
 */
function intercept<T extends object>(
  target: T,
  methods: Record<string, (original: AnyFn, args: unknown[]) => unknown>,
): T {
  return new Proxy(target, {
    get(obj, name) {
      const value = Reflect.get(obj, name, obj) as unknown
      if (typeof value !== 'function') return value
      const original = (value as AnyFn).bind(obj)
      const replacement = typeof name === 'string' ? methods[name] : undefined
      return replacement ? (...args: unknown[]) => replacement(original, args) : original
    },
  })
}

const RAW = Symbol('raw statement')

function wrapStatement(from: Place, statement: D1PreparedStatement): D1PreparedStatement {
  const run = (name: string) => (original: AnyFn, args: unknown[]) =>
    hop(from, 'd1', `D1 ${name}`, null, () => original(...args) as Promise<unknown>)
  const wrapped = intercept(statement, {
    bind: (original, args) => wrapStatement(from, original(...args) as D1PreparedStatement),
    run: run('run'),
    all: run('all'),
    first: run('first'),
    raw: run('raw'),
  })
  ;(wrapped as unknown as Record<symbol, unknown>)[RAW] = statement
  return wrapped
}

function rawStatement(statement: D1PreparedStatement): D1PreparedStatement {
  return (
    ((statement as unknown as Record<symbol, unknown>)[RAW] as D1PreparedStatement) ?? statement
  )
}

function wrapD1<T extends object>(from: Place, db: T): T {
  return intercept(db, {
    prepare: (original, args) => wrapStatement(from, original(...args) as D1PreparedStatement),
    batch: (original, args) => {
      const statements = (args[0] as D1PreparedStatement[]).map(rawStatement)
      return hop(
        from,
        'd1',
        `D1 batch(${statements.length})`,
        null,
        () => original(statements, ...args.slice(1)) as Promise<unknown>,
      )
    },
    exec: (original, args) =>
      hop(from, 'd1', 'D1 exec', null, () => original(...args) as Promise<unknown>),
    withSession: (original, args) => wrapD1(from, original(...args) as object),
  })
}

function wrapR2(from: Place, bucket: R2Bucket): R2Bucket {
  const call = (name: string) => (original: AnyFn, args: unknown[]) =>
    hop(from, 'r2', `R2 ${name}`, null, () => original(...args) as Promise<unknown>)
  return intercept(bucket, {
    get: call('get'),
    put: call('put'),
    head: call('head'),
    list: call('list'),
    delete: call('delete'),
    createMultipartUpload: call('createMultipartUpload'),
  })
}

/** Every method call on a stub is one round trip to the object (RPC or fetch). */
function wrapStub<T extends object>(from: Place, to: Place, stub: T): T {
  return new Proxy(stub, {
    get(obj, name) {
      const value = Reflect.get(obj, name, obj) as unknown
      if (typeof name !== 'string' || typeof value !== 'function') return value
      return (...args: unknown[]) =>
        hop(from, 'do', `${to}.${name}`, to, () =>
          Promise.resolve(Reflect.apply(value as AnyFn, obj, args)),
        )
    },
  })
}

function wrapNamespace<T extends object>(from: Place, to: Place, namespace: T): T {
  const stub = (original: AnyFn, args: unknown[]) => wrapStub(from, to, original(...args) as object)
  return intercept(namespace, { get: stub, getByName: stub })
}

const wrappedEnvs = new WeakMap<object, Map<Place, Env>>()

/** `env` with its bindings instrumented, for code running at `from`; one view per env. */
export function instrumentEnv(env: Env, from: Place): Env {
  let byPlace = wrappedEnvs.get(env)
  if (!byPlace) {
    byPlace = new Map()
    wrappedEnvs.set(env, byPlace)
  }
  let wrapped = byPlace.get(from)
  if (!wrapped) {
    wrapped = {
      ...env,
      DB: wrapD1(from, env.DB),
      STORAGE: wrapR2(from, env.STORAGE),
      ACCOUNT: wrapNamespace(from, 'account', env.ACCOUNT),
      SEQUENCER: wrapNamespace(from, 'sequencer', env.SEQUENCER),
    }
    byPlace.set(from, wrapped)
  }
  return wrapped
}

let fetchPatched = false

/** Outbound `fetch` (PLC, DID documents, proxied calls, crawlers) as hops of the Worker. */
export function instrumentFetch(): void {
  if (fetchPatched) return
  fetchPatched = true
  const original = globalThis.fetch
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    return hop('worker', 'fetch', `fetch ${url.host}`, null, () => original(input, init))
  }) as typeof fetch
}
