/**
 * The common methods, each called against the bench build (bench/worker/entry.ts): once with
 * its round trips traced (`countHops`), or many times to time them (`timeMethods`). The
 * account, records and blob they need are made first, and every method is warmed up.
 */
import { buildBenchWorker } from './build.ts'
import { XrpcClient } from './client.ts'
import { describeAfter, describeHops, type RequestHops, requestHops } from './hop-paths.ts'
import type { Trace } from './hop-trace.ts'
import { HOP_FIGURES, type Results } from './metrics.ts'
import { sleep } from './processes.ts'
import { type BenchServer, startDirect } from './servers.ts'
import { quantile } from './stats.ts'

const COLLECTION = 'app.bsky.feed.post'
const PASSWORD = 'bench-password-1'
/** The account object archives to R2 from an alarm a second after a write. */
const AFTER_RESPONSE_MS = 1500

interface State {
  client: XrpcClient
  url: string
  did: string
  handle: string
  accessJwt: string
  refreshJwt: string
  rkeys: string[]
  blobCid: string
  n: number
}

type MethodCall = (s: State) => Promise<unknown>

const post = (_s: State, text: string) => ({
  $type: COLLECTION,
  text,
  createdAt: new Date().toISOString(),
})

async function newRecord(s: State): Promise<string> {
  const res = await s.client.call<{ uri: string }>('com.atproto.repo.createRecord', {
    token: s.accessJwt,
    body: { repo: s.did, collection: COLLECTION, record: post(s, `setup ${s.n++}`) },
  })
  const rkey = res.body.uri.split('/').pop()!
  s.rkeys.push(rkey)
  return rkey
}

async function upload(s: State): Promise<string> {
  const bytes = crypto.getRandomValues(new Uint8Array(2048))
  // The PNG signature: the PDS sniffs the type.
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const res = await fetch(`${s.url}/xrpc/com.atproto.repo.uploadBlob`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.accessJwt}`, 'content-type': 'image/png' },
    body: bytes,
  })
  const body = (await res.json()) as { blob?: { ref: { $link: string } } }
  if (!res.ok || !body.blob) throw new Error(`uploadBlob: ${res.status} ${JSON.stringify(body)}`)
  return body.blob.ref.$link
}

/**
 * Each method: an optional untimed `prepare` (a record to delete, say) and the call itself.
 * The order is the table's.
 */
export const HOP_METHODS: { name: string; prepare?: MethodCall; call: MethodCall }[] = [
  {
    name: 'createRecord',
    call: (s) =>
      s.client.call('com.atproto.repo.createRecord', {
        token: s.accessJwt,
        body: { repo: s.did, collection: COLLECTION, record: post(s, `hop ${s.n++}`) },
      }),
  },
  {
    name: 'putRecord',
    call: (s) =>
      s.client.call('com.atproto.repo.putRecord', {
        token: s.accessJwt,
        body: {
          repo: s.did,
          collection: COLLECTION,
          rkey: s.rkeys[0],
          record: post(s, `put ${s.n++}`),
        },
      }),
  },
  {
    name: 'deleteRecord',
    prepare: (s) => newRecord(s),
    call: (s) =>
      s.client.call('com.atproto.repo.deleteRecord', {
        token: s.accessJwt,
        body: { repo: s.did, collection: COLLECTION, rkey: s.rkeys.pop() },
      }),
  },
  {
    name: 'applyWrites',
    call: (s) =>
      s.client.call('com.atproto.repo.applyWrites', {
        token: s.accessJwt,
        body: {
          repo: s.did,
          writes: [1, 2, 3].map(() => ({
            $type: 'com.atproto.repo.applyWrites#create',
            collection: COLLECTION,
            value: post(s, `batch ${s.n++}`),
          })),
        },
      }),
  },
  {
    name: 'getRecord',
    call: (s) =>
      s.client.call('com.atproto.repo.getRecord', {
        params: { repo: s.did, collection: COLLECTION, rkey: s.rkeys[0] },
      }),
  },
  {
    name: 'listRecords',
    call: (s) =>
      s.client.call('com.atproto.repo.listRecords', {
        params: { repo: s.did, collection: COLLECTION, limit: 50 },
      }),
  },
  {
    name: 'describeRepo',
    call: (s) => s.client.call('com.atproto.repo.describeRepo', { params: { repo: s.did } }),
  },
  {
    name: 'getRepo',
    call: (s) =>
      s.client.call('com.atproto.sync.getRepo', { params: { did: s.did }, binary: true }),
  },
  {
    name: 'createSession',
    call: (s) =>
      s.client.call('com.atproto.server.createSession', {
        body: { identifier: s.handle, password: PASSWORD },
      }),
  },
  {
    name: 'refreshSession',
    call: async (s) => {
      const res = await fetch(`${s.url}/xrpc/com.atproto.server.refreshSession`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.refreshJwt}` },
      })
      const body = (await res.json()) as { accessJwt: string; refreshJwt: string }
      if (!res.ok) throw new Error(`refreshSession: ${res.status} ${JSON.stringify(body)}`)
      s.refreshJwt = body.refreshJwt
      s.accessJwt = body.accessJwt
    },
  },
  {
    name: 'getSession',
    call: (s) => s.client.call('com.atproto.server.getSession', { token: s.accessJwt }),
  },
  { name: 'uploadBlob', call: (s) => upload(s) },
  {
    name: 'getBlob',
    call: async (s) => {
      const res = await fetch(
        `${s.url}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(s.did)}&cid=${s.blobCid}`,
      )
      await res.arrayBuffer()
      if (!res.ok) throw new Error(`getBlob: ${res.status}`)
    },
  },
]

/** An account with a few records and a blob a record refers to; every method called twice. */
export async function prepareHopState(url: string): Promise<State> {
  const client = new XrpcClient(url)
  const handle = `hops${Date.now() % 100000}.test`
  const res = await client.call<{ did: string; accessJwt: string; refreshJwt: string }>(
    'com.atproto.server.createAccount',
    { body: { handle, email: `${handle}@example.com`, password: PASSWORD } },
  )
  const s: State = { client, url, handle, ...res.body, rkeys: [], blobCid: '', n: 0 }
  for (let i = 0; i < 5; i++) await newRecord(s)
  s.blobCid = await upload(s)
  await client.call('com.atproto.repo.createRecord', {
    token: s.accessJwt,
    body: {
      repo: s.did,
      collection: COLLECTION,
      record: {
        ...post(s, 'with an image'),
        embed: {
          $type: 'app.bsky.embed.images',
          images: [
            {
              alt: '',
              image: {
                $type: 'blob',
                ref: { $link: s.blobCid },
                mimeType: 'image/png',
                size: 2048,
              },
            },
          ],
        },
      },
    },
  })
  for (const method of HOP_METHODS) {
    for (let i = 0; i < 2; i++) {
      await method.prepare?.(s)
      await method.call(s)
    }
  }
  return s
}

async function takeTrace(url: string): Promise<Trace> {
  const res = await fetch(`${url}/_bench/trace`)
  if (!res.ok) throw new Error(`/_bench/trace: ${res.status} (not the bench build?)`)
  return (await res.json()) as Trace
}

export async function setLatency(url: string, spec: string): Promise<void> {
  const res = await fetch(`${url}/_bench/latency?spec=${encodeURIComponent(spec)}`, {
    method: 'POST',
  })
  if (!res.ok) throw new Error(`/_bench/latency: ${res.status} ${await res.text()}`)
}

export interface MethodHops extends RequestHops {
  method: string
  path: string
  afterText: string
}

/** Each method once, alone: the round trips it made, and those after its response. */
export async function countHops(s: State): Promise<MethodHops[]> {
  const out: MethodHops[] = []
  for (const method of HOP_METHODS) {
    await method.prepare?.(s)
    await sleep(AFTER_RESPONSE_MS)
    await takeTrace(s.url)
    await method.call(s)
    await sleep(AFTER_RESPONSE_MS)
    const hops = requestHops(await takeTrace(s.url))
    out.push({
      method: method.name,
      path: describeHops(hops.tree),
      afterText: describeAfter(hops.after),
      ...hops,
    })
  }
  return out
}

export interface MethodTimes {
  method: string
  p50: number
  p99: number
}

/** Each method `rounds` times in a row (its `prepare` untimed): p50 and p99 in ms. */
export async function timeMethods(s: State, rounds: number): Promise<MethodTimes[]> {
  const out: MethodTimes[] = []
  for (const method of HOP_METHODS) {
    const samples: number[] = []
    for (let i = 0; i < rounds; i++) {
      await method.prepare?.(s)
      const start = performance.now()
      await method.call(s)
      samples.push(performance.now() - start)
    }
    out.push({ method: method.name, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) })
  }
  await takeTrace(s.url)
  return out
}

const HIGH = 1_000_000_000
/** Every limit the common methods meet, on as in production, too high to be reached. */
const UNREACHABLE_LIMITS: Record<string, string> = {
  PDS_RATE_LIMITS_ENABLED: 'true',
  PDS_RATE_LIMIT_WRITE_POINTS_HOUR: String(HIGH),
  PDS_RATE_LIMIT_WRITE_POINTS_DAY: String(HIGH),
  PDS_RATE_LIMIT_UPLOAD_BLOB_HOUR: String(HIGH),
  PDS_RATE_LIMITS: [
    'createSession-ip',
    'createSession-fail-acct-ip',
    'createSession-fail-acct',
    'createAccount-ip',
  ]
    .map((name) => `${name}=${HIGH}`)
    .join(','),
}

/**
 * The bench build in workerd (the `direct` server). Rate limits on by default, as in
 * production: their counters in D1 are round trips of every limited call.
 */
export function startHopServer(buildDir: string, rateLimits = true): Promise<BenchServer> {
  return startDirect(buildBenchWorker(buildDir), { vars: rateLimits ? UNREACHABLE_LIMITS : {} })
}

/** For `npm run bench`'s table: the critical path of HOP_FIGURES, measured on its own server. */
export async function hopFigures(buildDir: string): Promise<Results> {
  const server = await startHopServer(buildDir)
  try {
    const hops = await countHops(await prepareHopState(server.url))
    return Object.fromEntries(
      hops
        .filter((h) => HOP_FIGURES.includes(h.method))
        .map((h) => [`hops.${h.method}`, h.critical]),
    )
  } finally {
    await server.stop()
  }
}
