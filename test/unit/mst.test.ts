import { readFileSync } from 'node:fs'
import { MST as RefMst, MemoryBlockstore as RefStore } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import { CID, cidForCborBytes } from '../../src/data/cid.ts'
import { BlockMap } from '../../src/repo/block-map.ts'
import {
  type BlockReader,
  MemoryBlockStore,
  MissingBlockError,
} from '../../src/repo/block-store.ts'
import {
  commonPrefixLength,
  diffRoots,
  InvalidMstKeyError,
  InvalidMstNodeError,
  isValidMstKey,
  keyHeight,
  Mst,
  MstKeyExistsError,
  MstKeyNotFoundError,
} from '../../src/repo/mst/index.ts'
import { tidFromTimestampMicros } from '../../src/syntax/tid.ts'

const FIXTURES = new URL('../fixtures/interop/', import.meta.url)
const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8'))

const EMPTY_ROOT = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
const LEAF = CID.parse('bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454')

type ProofFixture = {
  comment: string
  leafValue: string
  keys: string[]
  adds: string[]
  dels: string[]
  rootBeforeCommit: string
  rootAfterCommit: string
  blocksInProof: string[]
}

async function build(store: BlockReader, keys: Iterable<string>, value = LEAF): Promise<Mst> {
  let tree = Mst.create(store)
  for (const key of keys) tree = await tree.add(key, value)
  return tree
}

async function persist(tree: Mst, store: MemoryBlockStore): Promise<CID> {
  store.putMany(await tree.collectNewBlocks())
  return tree.rootCid()
}

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items.slice()
    return
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)]
    for (const tail of permutations(rest)) yield [items[i]!, ...tail]
  }
}

/** Deterministic pseudo-random numbers, so failures reproduce. */
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

function postKeys(count: number, seed: number): string[] {
  const rand = rng(seed)
  const keys = new Set<string>()
  let micros = 1_700_000_000_000_000
  while (keys.size < count) {
    micros += 1 + Math.floor(rand() * 5_000_000)
    keys.add(`app.bsky.feed.post/${tidFromTimestampMicros(micros, Math.floor(rand() * 1024))}`)
  }
  return [...keys]
}

class CountingStore implements BlockReader {
  reads = 0
  private readonly inner: MemoryBlockStore

  constructor(inner: MemoryBlockStore) {
    this.inner = inner
  }

  get(cid: CID): Promise<Uint8Array | null> {
    this.reads++
    return this.inner.get(cid)
  }
}

describe('MST keys', () => {
  it('computes the height of every key_heights.json case', () => {
    const cases = readJson<{ key: string; height: number }[]>('mst/key_heights.json')
    expect(cases.length).toBe(9)
    for (const { key, height } of cases) expect(keyHeight(key), key).toBe(height)
  })

  it('computes every common_prefix.json case', () => {
    const cases = readJson<{ left: string; right: string; len: number }[]>('mst/common_prefix.json')
    expect(cases.length).toBe(13)
    for (const { left, right, len } of cases) expect(commonPrefixLength(left, right)).toBe(len)
  })

  it('counts the common prefix in UTF-8 bytes', () => {
    expect(commonPrefixLength('aé1', 'aé2')).toBe(3)
    expect(commonPrefixLength('aé', 'aè')).toBe(2)
  })

  it('gives each example key the height its second character names', () => {
    const keys = readFileSync(new URL('mst/example_keys.txt', FIXTURES), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
    expect(keys.length).toBe(156)
    for (const key of keys) expect(keyHeight(key), key).toBe(Number(key[1]))
  })

  it('validates keys', () => {
    for (const key of ['com.example.record/3jqfcqzm3fo2j', 'a/b', 'coll/rk:~_-.', 'a/..a']) {
      expect(isValidMstKey(key), key).toBe(true)
    }
    const long = `com.example/${'a'.repeat(1013)}`
    expect(long.length).toBe(1025)
    for (const key of [
      '',
      'nosep',
      '/rkey',
      'coll/',
      'a/b/c',
      'coll/..',
      'coll/.',
      'coll/with space',
      'coll/%20',
      'coll/é',
      long,
    ]) {
      expect(isValidMstKey(key), key).toBe(false)
    }
    expect(isValidMstKey(long.slice(1))).toBe(true)
  })
})

describe('MST basics', () => {
  it('has the known empty-tree root', async () => {
    const tree = Mst.create(new MemoryBlockStore())
    expect((await tree.rootCid()).toString()).toBe(EMPTY_ROOT)
    const blocks = await tree.collectNewBlocks()
    expect([...blocks.cids()].map(String)).toEqual([EMPTY_ROOT])
  })

  it('gets, adds, updates and deletes with the documented errors', async () => {
    const store = new MemoryBlockStore()
    const other = await cidForCborBytes(encodeCbor({ other: true }))
    const tree = await build(store, ['coll/a', 'coll/b', 'coll/c'])
    expect((await tree.get('coll/b'))?.equals(LEAF)).toBe(true)
    expect(await tree.get('coll/zz')).toBeNull()
    await expect(tree.add('coll/b', LEAF)).rejects.toThrow(MstKeyExistsError)
    await expect(tree.update('coll/x', LEAF)).rejects.toThrow(MstKeyNotFoundError)
    await expect(tree.delete('coll/x')).rejects.toThrow(MstKeyNotFoundError)
    await expect(tree.add('bad key', LEAF)).rejects.toThrow(InvalidMstKeyError)
    const updated = await tree.update('coll/b', other)
    expect((await updated.get('coll/b'))?.equals(other)).toBe(true)
    expect((await tree.get('coll/b'))?.equals(LEAF)).toBe(true) // the old version is untouched
    const upserted = await (await updated.put('coll/d', other)).put('coll/b', LEAF)
    expect((await upserted.list()).map((e) => e.key)).toEqual([
      'coll/a',
      'coll/b',
      'coll/c',
      'coll/d',
    ])
    const deleted = await upserted.delete('coll/d')
    expect((await deleted.rootCid()).equals(await tree.rootCid())).toBe(true)
  })

  it('encodes nodes exactly as the generic DAG-CBOR encoder does', async () => {
    const store = new MemoryBlockStore()
    const tree = await build(store, postKeys(500, 7))
    let count = 0
    for await (const { cid, bytes } of tree.walkBlocks()) {
      const reencoded = encodeCbor(decodeCbor(bytes))
      expect(Buffer.from(reencoded).equals(bytes)).toBe(true)
      expect((await cidForCborBytes(bytes)).equals(cid)).toBe(true)
      const node = decodeCbor<{ l: unknown; e: { t: unknown }[] }>(bytes)
      expect('l' in node).toBe(true)
      for (const entry of node.e) expect('t' in entry).toBe(true)
      count++
    }
    expect(count).toBeGreaterThan(50)
  })
})

describe('commit-proof fixtures', () => {
  const fixtures = readJson<ProofFixture[]>('firehose/commit-proof-fixtures.json')

  it('has the six cases', () => {
    expect(fixtures.length).toBe(6)
  })

  for (const fx of fixtures) {
    it(fx.comment, async () => {
      const leaf = CID.parse(fx.leafValue)
      const store = new MemoryBlockStore()

      // 1. Build the tree before the commit.
      let tree = await build(store, fx.keys, leaf)
      expect((await tree.rootCid()).toString()).toBe(fx.rootBeforeCommit)
      const before = await persist(tree, store)

      // 2. Apply the commit: adds, then deletions.
      tree = Mst.load(store, before)
      for (const key of fx.adds) tree = await tree.add(key, leaf)
      for (const key of fx.dels) tree = await tree.delete(key)
      expect((await tree.rootCid()).toString()).toBe(fx.rootAfterCommit)
      await persist(tree, store)

      // 3. The covering proofs hold every block the reference puts in the proof.
      const proof = await tree.proofBlocksForKeys([...fx.adds, ...fx.dels])
      for (const cid of fx.blocksInProof) expect(proof.has(CID.parse(cid)), cid).toBe(true)
      for (const { cid, bytes } of proof) {
        expect((await cidForCborBytes(bytes)).equals(cid)).toBe(true)
      }

      // 4. From only the proof blocks, every order of the inverted operations gives the old root.
      const proofStore = new MemoryBlockStore()
      proofStore.putMany(proof)
      const inverse = [
        ...fx.adds.map((key) => ({ key, del: true })),
        ...fx.dels.map((key) => ({ key, del: false })),
      ]
      let orders = 0
      for (const order of permutations(inverse)) {
        let partial = Mst.load(proofStore, CID.parse(fx.rootAfterCommit))
        for (const op of order) {
          partial = op.del ? await partial.delete(op.key) : await partial.add(op.key, leaf)
        }
        expect((await partial.rootCid()).toString()).toBe(fx.rootBeforeCommit)
        orders++
      }
      expect(orders).toBeGreaterThanOrEqual(1)
    })
  }
})

describe('MST listing', () => {
  const keys = [
    ...postKeys(300, 1),
    ...postKeys(50, 2).map((k) => k.replace('feed.post', 'feed.like')),
    'app.bsky.actor.profile/self',
  ]
  const sorted = [...keys].sort()
  const posts = sorted.filter((k) => k.startsWith('app.bsky.feed.post/'))

  it('walks leaves in key order, with bounds, limit and reverse', async () => {
    const store = new MemoryBlockStore()
    const shuffled = [...keys].sort(() => 0.5 - Math.random())
    const built = await build(store, shuffled)
    const tree = Mst.load(store, await persist(built, store))
    for (const t of [built, tree]) {
      expect((await t.list()).map((e) => e.key)).toEqual(sorted)
      expect((await t.list({ reverse: true })).map((e) => e.key)).toEqual([...sorted].reverse())
      const a = sorted[40]!
      const b = sorted[90]!
      expect((await t.list({ after: a, before: b })).map((e) => e.key)).toEqual(
        sorted.slice(41, 90),
      )
      expect((await t.list({ after: a, before: b, reverse: true })).map((e) => e.key)).toEqual(
        sorted.slice(41, 90).reverse(),
      )
      expect((await t.list({ after: a, limit: 7 })).map((e) => e.key)).toEqual(sorted.slice(41, 48))
      expect((await t.list({ before: b, limit: 5, reverse: true })).map((e) => e.key)).toEqual(
        sorted.slice(85, 90).reverse(),
      )
      expect((await t.list({ prefix: 'app.bsky.feed.post/' })).map((e) => e.key)).toEqual(posts)
      expect(
        (await t.list({ prefix: 'app.bsky.feed.post/', reverse: true, limit: 3 })).map(
          (e) => e.key,
        ),
      ).toEqual(posts.slice(-3).reverse())
      expect(
        (await t.list({ prefix: 'app.bsky.feed.post/', after: posts[10]!, limit: 2 })).map(
          (e) => e.key,
        ),
      ).toEqual(posts.slice(11, 13))
      expect(await t.list({ prefix: 'app.bsky.feed.repost/' })).toEqual([])
      expect(await t.list({ limit: 0 })).toEqual([])
      // Bounds that are not keys of the tree.
      expect((await t.list({ after: 'app.bsky.feed.m', before: 'app.bsky.feed.q' })).length).toBe(
        posts.length,
      )
    }
  })

  it('streams every node block, each once, the root first', async () => {
    const store = new MemoryBlockStore()
    const tree = await build(store, keys)
    const root = await tree.rootCid()
    const blocks = await tree.collectNewBlocks()
    const seen: string[] = []
    for await (const { cid } of tree.walkBlocks()) seen.push(cid.toString())
    expect(seen[0]).toBe(root.toString())
    expect(new Set(seen).size).toBe(seen.length)
    expect(new Set(seen)).toEqual(new Set([...blocks.cids()].map(String)))
    store.putMany(blocks)
    const reloaded: string[] = []
    for await (const { cid } of Mst.load(store, root).walkBlocks()) reloaded.push(cid.toString())
    expect(reloaded).toEqual(seen)
  })
})

describe('MST lazy loading', () => {
  it('reads only the nodes on the path of a write into a 10,000-key tree', async () => {
    const store = new MemoryBlockStore()
    const keys = postKeys(10_000, 3)
    const root = await persist(await build(store, keys), store)

    const counting = new CountingStore(store)
    const tree = Mst.load(counting, root)
    let depth = 0
    for await (const node of tree.walkNodes()) depth = Math.max(depth, node.layer + 1)
    counting.reads = 0

    const extra = 'app.bsky.feed.post/3zzzzzzzzzz22'
    const next = await tree.add(extra, LEAF)
    const newRoot = await next.rootCid()
    const blocks = await next.collectNewBlocks()
    expect(counting.reads).toBeGreaterThan(0)
    expect(counting.reads).toBeLessThan(3 * depth)
    expect(blocks.size).toBeLessThanOrEqual(depth + 1)

    // The same content built from scratch has the same root.
    const scratch = await build(new MemoryBlockStore(), [...keys, extra])
    expect((await scratch.rootCid()).equals(newRoot)).toBe(true)

    // Further work on the loaded tree does not read the cached path again.
    counting.reads = 0
    await next.get(extra)
    const again = await next.delete(extra)
    expect(counting.reads).toBe(0)
    expect((await again.rootCid()).equals(root)).toBe(true)
  })

  it('fails with MissingBlockError on a partial tree', async () => {
    const store = new MemoryBlockStore()
    const root = await persist(await build(store, postKeys(200, 4)), store)
    const rootOnly = new MemoryBlockStore()
    rootOnly.put(root, (await store.get(root))!)
    const tree = Mst.load(rootOnly, root)
    await expect(tree.list()).rejects.toThrow(MissingBlockError)
  })
})

describe('MST node checks', () => {
  async function storeNode(store: MemoryBlockStore, node: unknown): Promise<CID> {
    const bytes = encodeCbor(node)
    const cid = await cidForCborBytes(bytes)
    store.put(cid, bytes)
    return cid
  }
  const te = new TextEncoder()
  const entry = (p: number, k: string, t: CID | null = null) => ({
    p,
    k: te.encode(k),
    v: LEAF,
    t,
  })

  it('rejects keys of the wrong height, out of order, or invalid', async () => {
    const store = new MemoryBlockStore()
    const cases = [
      { l: null, e: [entry(0, 'A0/374913'), entry(0, 'B1/986427')] }, // heights 0 and 1
      { l: null, e: [entry(0, 'C0/451630'), entry(0, 'A0/374913')] }, // out of order
      { l: null, e: [entry(0, 'A0/374913'), entry(3, '374913')] }, // duplicate after prefix
      { l: null, e: [entry(0, 'not a key')] },
      { l: null, e: [entry(1, 'A0/374913')] }, // first entry with a prefix
    ]
    for (const node of cases) {
      const tree = Mst.load(store, await storeNode(store, node))
      await expect(tree.get('A0/374913')).rejects.toThrow(InvalidMstNodeError)
    }
  })

  it('rejects a subtree whose keys are outside the range its parent gives it', async () => {
    const store = new MemoryBlockStore()
    const child = await storeNode(store, { l: null, e: [entry(0, 'G0/765327')] })
    const root = await storeNode(store, { l: child, e: [entry(0, 'F1/085263')] })
    await expect(Mst.load(store, root).list()).rejects.toThrow(InvalidMstNodeError)
  })

  it('rejects an unpruned root and a subtree under height 0', async () => {
    const store = new MemoryBlockStore()
    const leafNode = await storeNode(store, { l: null, e: [entry(0, 'A0/374913')] })
    const unpruned = await storeNode(store, { l: leafNode, e: [] })
    await expect(Mst.load(store, unpruned).get('A0/374913')).rejects.toThrow(InvalidMstNodeError)
    const below = await storeNode(store, { l: leafNode, e: [entry(0, 'C0/451630')] })
    await expect(Mst.load(store, below).list()).rejects.toThrow(InvalidMstNodeError)
  })
})

describe('MST reading other encodings', () => {
  it('reads nodes that omit null `l` and `t`, keeping their CIDs', async () => {
    const store = new MemoryBlockStore()
    const te = new TextEncoder()
    const leafNode = { e: [{ p: 0, k: te.encode('A0/374913'), v: LEAF }] }
    const leafBytes = encodeCbor(leafNode)
    const leafCid = await cidForCborBytes(leafBytes)
    store.put(leafCid, leafBytes)
    const rootNode = { l: leafCid, e: [{ p: 0, k: te.encode('B1/986427'), v: LEAF }] }
    const rootBytes = encodeCbor(rootNode)
    const root = await cidForCborBytes(rootBytes)
    store.put(root, rootBytes)

    const tree = Mst.load(store, root)
    expect((await tree.list()).map((e) => e.key)).toEqual(['A0/374913', 'B1/986427'])
    const proof = await tree.proofBlocksForKey('A0/374913')
    expect(new Set([...proof.cids()].map(String))).toEqual(new Set([String(root), String(leafCid)]))
    expect((await tree.rootCid()).equals(root)).toBe(true)
    // A write re-encodes the nodes on its path canonically, with explicit nulls; the others
    // keep their bytes.
    const next = await tree.add('B0/601692', LEAF)
    const canonical = await build(new MemoryBlockStore(), ['A0/374913', 'B0/601692', 'B1/986427'])
    expect((await next.rootCid()).equals(await canonical.rootCid())).toBe(true)
    const aside = await tree.add('C0/451630', LEAF)
    const blocks = await aside.collectNewBlocks()
    expect(blocks.has(leafCid)).toBe(false)
    expect(blocks.size).toBe(2)
  })
})

describe('MST new blocks', () => {
  it('returns only blocks written since the last markStored()', async () => {
    const store = new MemoryBlockStore()
    let tree = await build(store, postKeys(300, 12))
    const first = await tree.collectNewBlocks()
    store.putMany(first)
    tree.markStored()
    expect((await tree.collectNewBlocks()).size).toBe(0)
    tree = await tree.add('app.bsky.feed.like/3zzzzzzzzzz22', LEAF)
    const second = await tree.collectNewBlocks()
    expect(second.size).toBeGreaterThan(0)
    expect(second.size).toBeLessThan(10)
    for (const cid of second.cids()) expect(first.has(cid)).toBe(false)
    store.putMany(second)
    const reloaded = Mst.load(store, await tree.rootCid())
    expect((await reloaded.list()).length).toBe(301)
  })

  it('returns every new node when the store cannot tell what it holds', async () => {
    const inner = new MemoryBlockStore()
    const root = await persist(await build(inner, postKeys(200, 13)), inner)
    const tree = Mst.load(inner, root)
    const noHas: BlockReader = { get: (cid) => inner.get(cid) }
    const key = 'app.bsky.feed.post/2222222222222'
    const withHas = await (await tree.add(key, LEAF)).collectNewBlocks()
    const without = await (await Mst.load(noHas, root).add(key, LEAF)).collectNewBlocks()
    expect([...without.cids()].map(String).sort()).toEqual([...withHas.cids()].map(String).sort())
    // Deleting the key again gives back stored nodes: a store with has() leaves them out.
    const back = await (await tree.add(key, LEAF)).delete(key)
    expect((await back.rootCid()).equals(root)).toBe(true)
    expect((await back.collectNewBlocks()).size).toBe(0)
  })

  it('fetches the subtrees of a node in one batch during a walk', async () => {
    const store = new MemoryBlockStore()
    const root = await persist(await build(store, postKeys(2_000, 14)), store)
    let gets = 0
    let batches = 0
    const batching: BlockReader = {
      get: (cid) => {
        gets++
        return store.get(cid)
      },
      getMany: (cids) => {
        batches++
        return store.getMany(cids)
      },
    }
    let nodes = 0
    for await (const _ of Mst.load(batching, root).walkBlocks()) nodes++
    expect(nodes).toBe(store.size)
    expect(gets + batches).toBeLessThan(nodes / 2)
  })
})

describe('MST diff', () => {
  it('reports creates, updates and deletes and the new nodes', async () => {
    const store = new MemoryBlockStore()
    const keys = postKeys(2_000, 5)
    const from = await persist(await build(store, keys), store)
    const other = await cidForCborBytes(encodeCbor({ other: 1 }))
    let tree = Mst.load(store, from)
    const added = postKeys(20, 6).map((k) => k.replace('post', 'like'))
    for (const key of added) tree = await tree.add(key, LEAF)
    for (const key of keys.slice(0, 10)) tree = await tree.update(key, other)
    for (const key of keys.slice(10, 25)) tree = await tree.delete(key)
    const newBlocks = await tree.collectNewBlocks()
    const to = await persist(tree, store)

    const diff = await diffRoots(store, from, to)
    expect(diff.creates.map((c) => c.key)).toEqual([...added].sort())
    expect(diff.updates.map((u) => u.key)).toEqual(keys.slice(0, 10).sort())
    expect(diff.updates.every((u) => u.cid.equals(other) && u.prev.equals(LEAF))).toBe(true)
    expect(diff.deletes.map((d) => d.key)).toEqual(keys.slice(10, 25).sort())
    expect(new Set([...diff.newBlocks.cids()].map(String))).toEqual(
      new Set([...newBlocks.cids()].map(String)),
    )
    expect(diff.removedCids.length).toBeGreaterThan(0)
    for (const cid of diff.removedCids) expect(newBlocks.has(cid)).toBe(false)

    const same = await diffRoots(store, to, to)
    expect(same.creates.length + same.updates.length + same.deletes.length).toBe(0)
    const fromEmpty = await diffRoots(store, null, to)
    expect(fromEmpty.creates.length).toBe(keys.length + added.length - 15)
  })

  it('reads only the changed part of the trees', async () => {
    const store = new MemoryBlockStore()
    const keys = postKeys(5_000, 8)
    const from = await persist(await build(store, keys), store)
    const to = await persist(await Mst.load(store, from).delete(keys[1234]!), store)
    const counting = new CountingStore(store)
    const diff = await diffRoots(counting, from, to)
    expect(diff.deletes.map((d) => d.key)).toEqual([keys[1234]])
    expect(counting.reads).toBeLessThan(40)
  })
})

describe('MST against the reference implementation', () => {
  it('gives the same roots for the same random post keys', async () => {
    const keys = postKeys(400, 9)
    const ours = await build(new MemoryBlockStore(), keys)
    let ref = await RefMst.create(new RefStore())
    for (const key of keys) ref = await ref.add(key, LEAF)
    expect((await ours.rootCid()).toString()).toBe((await ref.getPointer()).toString())

    let oursAfter = ours
    let refAfter = ref
    for (const key of keys.filter((_, i) => i % 3 === 0)) {
      oursAfter = await oursAfter.delete(key)
      refAfter = await refAfter.delete(key)
    }
    expect((await oursAfter.rootCid()).toString()).toBe((await refAfter.getPointer()).toString())
  })

  it('gives the same covering proofs', async () => {
    const keys = postKeys(300, 10)
    const ours = await build(new MemoryBlockStore(), keys)
    let ref = await RefMst.create(new RefStore())
    for (const key of keys) ref = await ref.add(key, LEAF)
    const probes = [...keys.slice(0, 20), ...postKeys(20, 11)]
    for (const key of probes) {
      const mine = await ours.proofBlocksForKey(key)
      const theirs = await ref.getCoveringProof(key)
      const theirCids = theirs.cids().map(String).sort()
      expect([...mine.cids()].map(String).sort(), key).toEqual(theirCids)
    }
  })
})

describe('BlockMap', () => {
  it('tracks blocks and their total size', async () => {
    const a = encodeCbor({ a: 1 })
    const b = encodeCbor({ b: 'two' })
    const ca = await cidForCborBytes(a)
    const cb = await cidForCborBytes(b)
    const map = new BlockMap().set(ca, a)
    expect(map.size).toBe(1)
    map.addMap(new BlockMap().set(cb, b).set(ca, a))
    expect(map.size).toBe(2)
    expect(map.byteSize).toBe(a.length + b.length)
    expect(map.get(cb)).toEqual(b)
    expect(map.delete(ca)).toBe(true)
    expect(map.has(ca)).toBe(false)
    expect(map.byteSize).toBe(b.length)
    expect([...map].map((block) => block.cid.toString())).toEqual([cb.toString()])
  })
})
