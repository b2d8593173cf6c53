/**
 * `npm run bench:scrypt`: the cost of one password hash, per scrypt setting, in Node and in
 * workerd (what createAccount and createSession pay; src/auth/password.ts says which we use).
 *
 * - ours: @noble/hashes' scrypt in JavaScript, as the Worker runs it (WebCrypto has no scrypt);
 * - the reference PDS: node:crypto's native scrypt with its defaults (N=2^14, r=8, p=1) and a
 *   64-byte key, which is what @atproto/pds calls.
 * workerd freezes clocks while a request computes, so its figures are timed from outside: the
 * round trip of a request that hashes once, less that of one that does not.
 */
import { scrypt as nodeScrypt } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'

const rootDir = fileURLToPath(new URL('..', import.meta.url))
const RUNS = Number(process.env.SCRYPT_RUNS ?? 7)

interface Setting {
  label: string
  logN: number
  r: number
  p: number
  dkLen: number
}

const SETTINGS: Setting[] = [
  {
    label: 'reference strength (N=2^14, r=8, p=1), 32-byte key: chosen',
    logN: 14,
    r: 8,
    p: 1,
    dkLen: 32,
  },
  { label: 'N=2^15, r=8, p=1', logN: 15, r: 8, p: 1, dkLen: 32 },
  { label: 'N=2^14, r=8, p=5: before', logN: 14, r: 8, p: 5, dkLen: 32 },
]

const password = new TextEncoder().encode('correct horse battery staple')
const salt = new Uint8Array(16).fill(7)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function timeRuns(run: () => Promise<unknown>): Promise<number> {
  await run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    await run()
    times.push(performance.now() - started)
  }
  return median(times)
}

function nodeNative(s: Setting): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    nodeScrypt(
      password,
      salt,
      s.dkLen,
      { N: 2 ** s.logN, r: s.r, p: s.p, maxmem: 2 ** 27 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  )
}

// Imports noble by path: Miniflare follows relative imports (noble's own are) from modulesRoot.
const WORKER = `
import { scryptAsync } from './node_modules/@noble/hashes/scrypt.js'
export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams
    if (!q.has('ln')) return new Response('idle')
    const key = await scryptAsync(new TextEncoder().encode('correct horse battery staple'),
      new Uint8Array(16).fill(7),
      { N: 2 ** Number(q.get('ln')), r: Number(q.get('r')), p: Number(q.get('p')), dkLen: 32,
        maxmem: 2 ** 27 })
    return new Response(String(key[0]))
  },
}`

async function workerdTimes(): Promise<Map<Setting, number>> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: [
        { type: 'ESModule', path: join(rootDir, 'scrypt-bench-worker.mjs'), contents: WORKER },
        ...nobleModules(),
      ],
      modulesRoot: rootDir,
      compatibilityDate: '2026-11-01',
    }),
  )
  try {
    const idle = await timeRuns(() => mf.dispatchFetch('http://bench/').then((r) => r.text()))
    const out = new Map<Setting, number>()
    for (const s of SETTINGS) {
      const url = `http://bench/?ln=${s.logN}&r=${s.r}&p=${s.p}`
      out.set(s, (await timeRuns(() => mf.dispatchFetch(url).then((r) => r.text()))) - idle)
    }
    return out
  } finally {
    await mf.dispose()
  }
}

/** The noble modules scrypt imports, by path (Miniflare takes no bare specifiers). */
function nobleModules() {
  const dir = join(rootDir, 'node_modules/@noble/hashes')
  return ['scrypt.js', 'pbkdf2.js', 'sha2.js', 'hmac.js', '_md.js', '_u64.js', 'utils.js'].map(
    (name) => ({ type: 'ESModule' as const, path: join(dir, name) }),
  )
}

const ms = (n: number) => `${n.toFixed(0)} ms`
console.log(`One password hash, median of ${RUNS} (${process.version}, ${process.arch})\n`)
console.log('| setting | ours, Node (JS) | ours, workerd (JS) | node:crypto (native) |')
console.log('|---|---|---|---|')
const inWorkerd = await workerdTimes()
for (const s of SETTINGS) {
  const params = { N: 2 ** s.logN, r: s.r, p: s.p, dkLen: s.dkLen, maxmem: 2 ** 27 }
  const js = await timeRuns(() => scryptAsync(password, salt, params))
  const native = await timeRuns(() => nodeNative(s))
  console.log(`| ${s.label} | ${ms(js)} | ${ms(inWorkerd.get(s)!)} | ${ms(native)} |`)
}
const reference = await timeRuns(() => nodeNative({ label: '', logN: 14, r: 8, p: 1, dkLen: 64 }))
console.log(`\nThe reference PDS (node:crypto, N=2^14, r=8, p=1, 64-byte key): ${ms(reference)}`)
console.log(`(workerd from ${join('node_modules', 'miniflare')}; set SCRYPT_RUNS for more runs)`)
