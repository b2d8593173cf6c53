/**
 * Streaming walks over a tree: leaves in key order (with bounds) and nodes in pre-order.
 * Nodes not yet in memory are read without being memoized, so a walk over a large tree
 * holds only the current path.
 */
import type { CID } from '../../data/cid.ts'
import type { Block } from '../block-map.ts'
import type { BlockReader } from '../block-store.ts'
import { peekNode, readNode } from './load.ts'
import type { MstNode, NodeData } from './node.ts'
import { lowerBound } from './ops.ts'

export type MstEntry = { key: string; value: CID }

export type ListOptions = {
  /** Only keys strictly greater than this. */
  after?: string
  /** Only keys strictly less than this. */
  before?: string
  /** Only keys starting with this (e.g. `app.bsky.feed.post/` for one collection). */
  prefix?: string
  limit?: number
  /** Descending key order. */
  reverse?: boolean
}

type Frame = { data: NodeData; j: number; childDone: boolean }

/** Past every ASCII character a key may hold, so `prefix + PAST_PREFIX` bounds the prefix. */
const PAST_PREFIX = '\x7f'

export async function* walkEntries(
  root: MstNode,
  store: BlockReader,
  opts: ListOptions = {},
): AsyncGenerator<MstEntry, void, undefined> {
  let low = opts.after ?? null
  let lowInclusive = false
  let high = opts.before ?? null
  if (opts.prefix !== undefined) {
    if (low === null || opts.prefix > low) {
      low = opts.prefix
      lowInclusive = true
    }
    const end = opts.prefix + PAST_PREFIX
    if (high === null || end < high) high = end
  }
  const limit = opts.limit ?? Number.POSITIVE_INFINITY
  if (limit <= 0) return
  const aboveLow = (key: string): boolean =>
    low === null || key > low || (lowInclusive && key === low)
  let count = 0
  const stack: Frame[] = []

  const push = async (node: MstNode): Promise<void> => {
    const data = await peekNode(node, store)
    let j: number
    if (opts.reverse) {
      j = high === null ? data.keys.length : lowerBound(data.keys, high)
    } else if (low === null) {
      j = 0
    } else {
      j = lowerBound(data.keys, low)
      if (!lowInclusive && data.keys[j] === low) j++
    }
    stack.push({ data, j, childDone: false })
  }

  await push(root)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    const { keys, values, children } = frame.data
    if (!frame.childDone) {
      frame.childDone = true
      const child = children[frame.j]
      if (child) await push(child)
      continue
    }
    if (opts.reverse) {
      if (frame.j === 0) {
        stack.pop()
        continue
      }
      const key = keys[frame.j - 1]!
      if (!aboveLow(key)) return
      if (high === null || key < high) {
        yield { key, value: values[frame.j - 1]! }
        if (++count >= limit) return
      }
      frame.j--
    } else {
      if (frame.j === keys.length) {
        stack.pop()
        continue
      }
      const key = keys[frame.j]!
      if (high !== null && key >= high) return
      if (aboveLow(key)) {
        yield { key, value: values[frame.j]! }
        if (++count >= limit) return
      }
      frame.j++
    }
    frame.childDone = false
  }
}

export type WalkedNode = Block & { layer: number; entries: MstEntry[] }

/**
 * Every node in pre-order (a node, then its subtrees left to right). The subtrees of a node
 * are fetched in one batch when the store supports BlockReader.getMany.
 */
export async function* walkNodes(
  root: MstNode,
  store: BlockReader,
): AsyncGenerator<WalkedNode, void, undefined> {
  const stack: { node: MstNode; bytes: Uint8Array | null }[] = [{ node: root, bytes: null }]
  while (stack.length > 0) {
    const next = stack.pop()!
    const { layer, data, cid, bytes } = await readNode(next.node, store, next.bytes)
    const entries = data.keys.map((key, i) => ({ key, value: data.values[i]! }))
    yield { cid, bytes, layer, entries }
    const children = data.children.filter((child): child is MstNode => child !== null)
    const unread = children.filter((child) => !child.data)
    let fetched: (Uint8Array | null)[] = []
    if (store.getMany && unread.length > 1) fetched = await store.getMany(unread.map((c) => c.cid!))
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!
      const at = unread.indexOf(child)
      stack.push({ node: child, bytes: at >= 0 ? (fetched[at] ?? null) : null })
    }
  }
}
