/**
 * MST benchmark: our tree against @atproto/repo's, in one run.
 *
 * 1. Build a tree of TREE_SIZE `app.bsky.feed.post/<tid>` keys (one add per key, then the
 *    root CID and the new blocks) and persist it into a memory block store.
 * 2. Single inserts as a commit does them: load the tree from its root through the store,
 *    add one new key, compute the new root, collect the new blocks, persist them, move on.
 *    Measured for keys at the right edge (new posts) and at random positions.
 *
 * Run: npm run bench:mst  (MST_BENCH_SIZE and MST_BENCH_INSERTS override the sizes)
 */
import { MST as RefMst, MemoryBlockstore as RefStore } from '@atproto/repo'
import { CID } from '../src/data/cid.ts'
import { MemoryBlockStore } from '../src/repo/block-store.ts'
import { Mst } from '../src/repo/mst/index.ts'
import { tidFromTimestampMicros } from '../src/syntax/tid.ts'

const TREE_SIZE = Number(process.env.MST_BENCH_SIZE ?? 100_000)
const INSERTS = Number(process.env.MST_BENCH_INSERTS ?? 3_000)
const LEAF = CID.parse('bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454')
const COLLECTION = 'app.bsky.feed.post/'

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const rand = rng(42)
const START = 1_700_000_000_000_000
let micros = START
const existing = new Set<string>()
const treeKeys: string[] = []
while (treeKeys.length < TREE_SIZE) {
  micros += 1 + Math.floor(rand() * 2_000_000)
  const key = COLLECTION + tidFromTimestampMicros(micros, Math.floor(rand() * 1024))
  if (!existing.has(key)) {
    existing.add(key)
    treeKeys.push(key)
  }
}
const END = micros

function newKeys(count: number, place: 'edge' | 'random'): string[] {
  const out: string[] = []
  let edge = END
  while (out.length < count) {
    let at: number
    if (place === 'edge') {
      edge += 1 + Math.floor(rand() * 2_000_000)
      at = edge
    } else {
      at = START + Math.floor(rand() * (END - START))
    }
    const key = COLLECTION + tidFromTimestampMicros(at, Math.floor(rand() * 1024))
    if (!existing.has(key)) {
      existing.add(key)
      out.push(key)
    }
  }
  return out
}

type Result = { label: string; ours: number; ref: number }
const results: Result[] = []

function report(label: string, count: number, oursMs: number, refMs: number): void {
  const ours = (count * 1000) / oursMs
  const ref = (count * 1000) / refMs
  results.push({ label, ours, ref })
  console.log(
    `${label.padEnd(34)} ours ${fmt(ours)} ops/s   reference ${fmt(ref)} ops/s   ours/reference ${(ours / ref).toFixed(2)}x`,
  )
}

const fmt = (n: number): string => n.toFixed(0).padStart(8)

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

// --- build -------------------------------------------------------------------------------

const ourStore = new MemoryBlockStore()
let ourRoot: CID = LEAF
const ourBuildMs = await time(async () => {
  let tree = Mst.create(ourStore)
  for (const key of treeKeys) tree = await tree.add(key, LEAF)
  ourRoot = await tree.rootCid()
  ourStore.putMany(await tree.collectNewBlocks())
})

const refStore = new RefStore()
let refRoot = LEAF as unknown as Awaited<ReturnType<RefMst['getPointer']>>
const refBuildMs = await time(async () => {
  let tree = await RefMst.create(refStore)
  for (const key of treeKeys) tree = await tree.add(key, LEAF)
  const { root, blocks } = await tree.getUnstoredBlocks()
  await refStore.putMany(blocks)
  refRoot = root
})

if (ourRoot.toString() !== refRoot.toString()) {
  throw new Error(`root mismatch after build: ${ourRoot} vs ${refRoot}`)
}
console.log(
  `tree: ${TREE_SIZE} keys, ${ourStore.size} nodes, root ${ourRoot}; ${INSERTS} inserts per run`,
)
report(`build (${TREE_SIZE} adds)`, TREE_SIZE, ourBuildMs, refBuildMs)

// --- single inserts ---------------------------------------------------------------------

async function oursInsert(keys: string[]): Promise<number> {
  return time(async () => {
    for (const key of keys) {
      const tree = await Mst.load(ourStore, ourRoot).add(key, LEAF)
      ourRoot = await tree.rootCid()
      ourStore.putMany(await tree.collectNewBlocks())
    }
  })
}

async function refInsert(keys: string[]): Promise<number> {
  return time(async () => {
    for (const key of keys) {
      const tree = await RefMst.load(refStore, refRoot).add(key, LEAF)
      const { root, blocks } = await tree.getUnstoredBlocks()
      await refStore.putMany(blocks)
      refRoot = root
    }
  })
}

for (const place of ['edge', 'random'] as const) {
  const keys = newKeys(INSERTS, place)
  // Warm both code paths before measuring.
  const warm = newKeys(200, place)
  await oursInsert(warm)
  await refInsert(warm)
  const oursMs = await oursInsert(keys)
  const refMs = await refInsert(keys)
  if (ourRoot.toString() !== refRoot.toString()) {
    throw new Error(`root mismatch after inserts: ${ourRoot} vs ${refRoot}`)
  }
  report(`single insert (${place === 'edge' ? 'new post' : 'random key'})`, INSERTS, oursMs, refMs)
}

const worst = Math.min(...results.map((r) => r.ours / r.ref))
console.log(`lowest ratio ours/reference: ${worst.toFixed(2)}x (target >= 1.5x)`)
