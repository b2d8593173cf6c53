import { readFileSync } from 'node:fs'
import { MST as RefMst, MemoryBlockstore as RefStore } from '@atproto/repo'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../src/data/cbor.ts'
import { type CID, cidForCborBytes } from '../../src/data/cid.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { diffRoots, Mst } from '../../src/repo/mst/index.ts'

const EMPTY_ROOT = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
const VALUES: CID[] = await Promise.all(
  [0, 1, 2].map((i) => cidForCborBytes(encodeCbor({ record: i }))),
)

// The example keys have known heights 0..5, so trees built from them get deep quickly.
const exampleKeys = readFileSync(
  new URL('../fixtures/interop/mst/example_keys.txt', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line !== '')

const randomKey = fc
  .tuple(
    fc.constantFrom('app.bsky.feed.post', 'app.bsky.feed.like', 'com.example.record'),
    fc.stringMatching(/^[a-zA-Z0-9_~.:-]{1,16}$/).filter((s) => s !== '.' && s !== '..'),
  )
  .map(([collection, rkey]) => `${collection}/${rkey}`)
const key = fc.oneof(randomKey, fc.constantFrom(...exampleKeys))
const keySet = (max: number) => fc.uniqueArray(key, { maxLength: max, size: 'max' })
const permutation = <T>(items: T[]) =>
  fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length })
const withValues = (max: number) =>
  fc.uniqueArray(fc.tuple(key, fc.integer({ min: 0, max: VALUES.length - 1 })), {
    maxLength: max,
    size: 'max',
    selector: ([k]) => k,
  })

async function build(store: MemoryBlockStore, entries: Iterable<[string, CID]>): Promise<Mst> {
  let tree = Mst.create(store)
  for (const [k, v] of entries) tree = await tree.add(k, v)
  return tree
}

async function persist(tree: Mst, store: MemoryBlockStore): Promise<CID> {
  store.putMany(await tree.collectNewBlocks())
  return tree.rootCid()
}

const entriesOf = async (tree: Mst) =>
  (await tree.list()).map((e) => [e.key, e.value.toString()] as const)

describe('MST properties', () => {
  it('has a shape that depends only on its content', async () => {
    await fc.assert(
      fc.asyncProperty(
        keySet(120).chain((keys) => fc.tuple(fc.constant(keys), permutation(keys))),
        async ([keys, shuffled]) => {
          const a = await build(
            new MemoryBlockStore(),
            keys.map((k) => [k, VALUES[0]!]),
          )
          const b = await build(
            new MemoryBlockStore(),
            shuffled.map((k) => [k, VALUES[0]!]),
          )
          expect((await a.rootCid()).toString()).toBe((await b.rootCid()).toString())
          expect((await a.list()).map((e) => e.key)).toEqual([...keys].sort())
        },
      ),
      { numRuns: 60 },
    )
  })

  it('returns to the empty root after deleting every key, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        keySet(100).chain((keys) => fc.tuple(fc.constant(keys), permutation(keys))),
        fc.boolean(),
        async ([keys, deleteOrder], reload) => {
          const store = new MemoryBlockStore()
          let tree = await build(
            store,
            keys.map((k) => [k, VALUES[1]!]),
          )
          if (reload) tree = Mst.load(store, await persist(tree, store))
          const half = deleteOrder.length >> 1
          for (const k of deleteOrder.slice(0, half)) tree = await tree.delete(k)
          // Midway, the tree is the one built from the remaining keys.
          const rest = await build(
            new MemoryBlockStore(),
            deleteOrder.slice(half).map((k) => [k, VALUES[1]!]),
          )
          expect((await tree.rootCid()).toString()).toBe((await rest.rootCid()).toString())
          for (const k of deleteOrder.slice(half)) tree = await tree.delete(k)
          expect((await tree.rootCid()).toString()).toBe(EMPTY_ROOT)
          expect(await tree.list()).toEqual([])
        },
      ),
      { numRuns: 60 },
    )
  })

  it('reloads from the persisted new blocks with the same entries', async () => {
    await fc.assert(
      fc.asyncProperty(withValues(100), withValues(40), async (first, second) => {
        const store = new MemoryBlockStore()
        const tree = await build(
          store,
          first.map(([k, v]) => [k, VALUES[v]!]),
        )
        const root = await persist(tree, store)
        const loaded = Mst.load(store, root)
        expect(await entriesOf(loaded)).toEqual(await entriesOf(tree))

        // Writes on a loaded tree: only their new blocks are needed to reload the result.
        let next = loaded
        for (const [k, v] of second) next = await next.put(k, VALUES[v]!)
        const nextRoot = await persist(next, store)
        const expected = new Map((await entriesOf(tree)).map(([k, v]) => [k, v]))
        for (const [k, v] of second) expected.set(k, VALUES[v]!.toString())
        const reloaded = Mst.load(store, nextRoot)
        expect(await entriesOf(reloaded)).toEqual(
          [...expected].sort(([a], [b]) => (a < b ? -1 : 1)),
        )
        for (const [k, v] of expected) expect((await reloaded.get(k))?.toString()).toBe(v)
      }),
      { numRuns: 60 },
    )
  })

  it('diffs two trees into their key-level changes and the missing nodes', async () => {
    await fc.assert(
      fc.asyncProperty(withValues(80), withValues(80), async (aEntries, bEntries) => {
        const a = new Map(aEntries.map(([k, v]) => [k, VALUES[v]!]))
        const b = new Map(bEntries.map(([k, v]) => [k, VALUES[v]!]))
        const store = new MemoryBlockStore() // both trees
        const aStore = new MemoryBlockStore() // the old tree only
        const aTree = await build(store, a)
        const aBlocks = await aTree.collectNewBlocks()
        store.putMany(aBlocks)
        aStore.putMany(aBlocks)
        const aRoot = await aTree.rootCid()
        const bRoot = await persist(await build(store, b), store)

        const diff = await diffRoots(store, aRoot, bRoot)
        const creates = [...b.keys()].filter((k) => !a.has(k)).sort()
        const deletes = [...a.keys()].filter((k) => !b.has(k)).sort()
        const updates = [...b.keys()].filter((k) => a.has(k) && !a.get(k)!.equals(b.get(k)!))
        expect(diff.creates.map((c) => c.key)).toEqual(creates)
        expect(diff.deletes.map((d) => d.key)).toEqual(deletes)
        expect(diff.updates.map((u) => u.key)).toEqual(updates.sort())
        for (const c of diff.creates) expect(c.cid.equals(b.get(c.key)!)).toBe(true)
        for (const d of diff.deletes) expect(d.prev.equals(a.get(d.key)!)).toBe(true)
        for (const u of diff.updates) {
          expect(u.prev.equals(a.get(u.key)!)).toBe(true)
          expect(u.cid.equals(b.get(u.key)!)).toBe(true)
        }

        // The old tree's blocks plus the diff's new blocks hold the whole new tree.
        aStore.putMany(diff.newBlocks)
        const walked: string[] = []
        for await (const block of Mst.load(aStore, bRoot).walkBlocks()) {
          walked.push(block.cid.toString())
        }
        expect(walked.length).toBeGreaterThan(0)
        for (const cid of diff.removedCids) expect(walked).not.toContain(cid.toString())
      }),
      { numRuns: 60 },
    )
  })

  it('proves any single write well enough to invert it from the proof alone', async () => {
    await fc.assert(
      fc.asyncProperty(keySet(120), key, async (keys, target) => {
        const store = new MemoryBlockStore()
        const before = await build(
          store,
          keys.map((k) => [k, VALUES[0]!]),
        )
        const beforeRoot = await persist(before, store)
        const present = keys.includes(target)
        const after = present ? await before.delete(target) : await before.add(target, VALUES[0]!)
        const afterRoot = await after.rootCid()

        const proofStore = new MemoryBlockStore()
        proofStore.putMany(await after.proofBlocksForKey(target))
        const partial = Mst.load(proofStore, afterRoot)
        expect((await partial.get(target))?.toString() ?? null).toBe(
          present ? null : VALUES[0]!.toString(),
        )
        const inverted = present
          ? await partial.add(target, VALUES[0]!)
          : await partial.delete(target)
        expect((await inverted.rootCid()).toString()).toBe(beforeRoot.toString())
      }),
      { numRuns: 100 },
    )
  })

  it('matches the reference implementation root for random key sets', async () => {
    await fc.assert(
      fc.asyncProperty(keySet(80), async (keys) => {
        const ours = await build(
          new MemoryBlockStore(),
          keys.map((k) => [k, VALUES[2]!]),
        )
        let ref = await RefMst.create(new RefStore())
        for (const k of keys) ref = await ref.add(k, VALUES[2]!)
        expect((await ours.rootCid()).toString()).toBe((await ref.getPointer()).toString())
      }),
      { numRuns: 40 },
    )
  })
})
