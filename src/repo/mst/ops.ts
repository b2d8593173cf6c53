/**
 * Persistent tree operations: each returns a new node (or the same one when nothing
 * changed) and reads only the nodes on the key's path, plus, for a deletion, the two
 * spines that get merged where the key was.
 */
import type { CID } from '../../data/cid.ts'
import type { BlockReader } from '../block-store.ts'
import { MstKeyExistsError, MstKeyNotFoundError } from './errors.ts'
import { loadNode } from './load.ts'
import { MstNode, type NodeData } from './node.ts'

export type PutMode = 'add' | 'update' | 'put'

/** Index of the first key >= `key`. */
export function lowerBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

export async function getValue(
  root: MstNode,
  key: string,
  store: BlockReader,
): Promise<CID | null> {
  let node: MstNode | null = root
  while (node) {
    const data: NodeData = node.data ?? (await loadNode(node, store))
    const i = lowerBound(data.keys, key)
    if (data.keys[i] === key) return data.values[i]!
    node = data.children[i] ?? null
  }
  return null
}

export function isEmptyTree(root: MstNode): boolean {
  const data = root.data
  return data !== null && data.keys.length === 0 && data.children[0] === null
}

/** Inserts or updates `key` in the tree rooted at `root` (already loaded). */
export async function putInTree(
  root: MstNode,
  key: string,
  value: CID,
  height: number,
  mode: PutMode,
  store: BlockReader,
): Promise<MstNode> {
  if (isEmptyTree(root)) {
    if (mode === 'update') throw new MstKeyNotFoundError(key)
    return MstNode.create(height, [key], [value], [null, null])
  }
  if (height > root.layer) {
    if (mode === 'update') throw new MstKeyNotFoundError(key)
    const [lo, hi] = await split(root, key, store)
    return MstNode.create(height, [key], [value], [raise(lo, height - 1), raise(hi, height - 1)])
  }
  return putIn(root, key, value, height, mode, store)
}

async function putIn(
  node: MstNode,
  key: string,
  value: CID,
  height: number,
  mode: PutMode,
  store: BlockReader,
): Promise<MstNode> {
  const data = node.data ?? (await loadNode(node, store))
  const { keys, values, children } = data
  const i = lowerBound(keys, key)
  if (keys[i] === key) {
    if (mode === 'add') throw new MstKeyExistsError(key)
    if (values[i]!.equals(value)) return node
    const newValues = values.slice()
    newValues[i] = value
    return MstNode.create(node.layer, keys, newValues, children)
  }
  if (height === node.layer) {
    if (mode === 'update') throw new MstKeyNotFoundError(key)
    const gap = children[i] ?? null
    const [lo, hi] = gap ? await split(gap, key, store) : [null, null]
    const newKeys = keys.slice()
    newKeys.splice(i, 0, key)
    const newValues = values.slice()
    newValues.splice(i, 0, value)
    const newChildren = children.slice()
    newChildren.splice(i, 1, lo, hi)
    return MstNode.create(node.layer, newKeys, newValues, newChildren)
  }
  const child = children[i] ?? null
  let newChild: MstNode
  if (child) {
    newChild = await putIn(child, key, value, height, mode, store)
    if (newChild === child) return node
  } else {
    if (mode === 'update') throw new MstKeyNotFoundError(key)
    newChild = raise(MstNode.create(height, [key], [value], [null, null]), node.layer - 1)!
  }
  const newChildren = children.slice()
  newChildren[i] = newChild
  return MstNode.create(node.layer, keys, values, newChildren)
}

/** Wraps a subtree in empty nodes up to `layer`, since links never skip a level. */
function raise(node: MstNode | null, layer: number): MstNode | null {
  let out = node
  while (out && out.layer < layer) out = MstNode.create(out.layer + 1, [], [], [out])
  return out
}

/**
 * Splits a subtree around a key it does not hold into the parts below and above it, both of
 * the subtree's layer; an empty part is null.
 */
async function split(
  node: MstNode,
  key: string,
  store: BlockReader,
): Promise<[MstNode | null, MstNode | null]> {
  const data = node.data ?? (await loadNode(node, store))
  const { keys, values, children } = data
  const i = lowerBound(keys, key)
  const gap = children[i] ?? null
  const [gapLo, gapHi] = gap ? await split(gap, key, store) : [null, null]
  if (i === keys.length && gapHi === null && gapLo === gap) return [node, null]
  if (i === 0 && gapLo === null && gapHi === gap) return [null, node]
  const lo =
    i === 0 && gapLo === null
      ? null
      : MstNode.create(node.layer, keys.slice(0, i), values.slice(0, i), [
          ...children.slice(0, i),
          gapLo,
        ])
  const hi =
    i === keys.length && gapHi === null
      ? null
      : MstNode.create(node.layer, keys.slice(i), values.slice(i), [
          gapHi,
          ...children.slice(i + 1),
        ])
  return [lo, hi]
}

/** Removes `key` from the tree rooted at `root` (already loaded); returns the new root. */
export async function deleteFromTree(
  root: MstNode,
  key: string,
  height: number,
  store: BlockReader,
): Promise<MstNode> {
  if (height > root.layer || isEmptyTree(root)) throw new MstKeyNotFoundError(key)
  const pruned = await deleteIn(root, key, height, store)
  if (!pruned) return MstNode.empty()
  // Prune empty nodes at the top.
  let out: MstNode = pruned
  for (;;) {
    const data: NodeData = out.data ?? (await loadNode(out, store))
    const only = data.children[0] ?? null
    if (data.keys.length > 0 || !only) return out
    out = only
  }
}

async function deleteIn(
  node: MstNode,
  key: string,
  height: number,
  store: BlockReader,
): Promise<MstNode | null> {
  const data = node.data ?? (await loadNode(node, store))
  const { keys, values, children } = data
  const i = lowerBound(keys, key)
  if (height === node.layer) {
    if (keys[i] !== key) throw new MstKeyNotFoundError(key)
    const merged = await merge(children[i] ?? null, children[i + 1] ?? null, store)
    if (keys.length === 1 && !merged) return null
    const newKeys = keys.slice()
    newKeys.splice(i, 1)
    const newValues = values.slice()
    newValues.splice(i, 1)
    const newChildren = children.slice()
    newChildren.splice(i, 2, merged)
    return MstNode.create(node.layer, newKeys, newValues, newChildren)
  }
  const child = children[i] ?? null
  if (!child) throw new MstKeyNotFoundError(key)
  const newChild = await deleteIn(child, key, height, store)
  if (!newChild && keys.length === 0) return null
  const newChildren = children.slice()
  newChildren[i] = newChild
  return MstNode.create(node.layer, keys, values, newChildren)
}

/** Joins two adjacent subtrees of the same layer (all keys of `a` below those of `b`). */
async function merge(
  a: MstNode | null,
  b: MstNode | null,
  store: BlockReader,
): Promise<MstNode | null> {
  if (!a) return b
  if (!b) return a
  const da = a.data ?? (await loadNode(a, store))
  const db = b.data ?? (await loadNode(b, store))
  const last = da.keys.length
  const mid = await merge(da.children[last] ?? null, db.children[0] ?? null, store)
  return MstNode.create(
    a.layer,
    [...da.keys, ...db.keys],
    [...da.values, ...db.values],
    [...da.children.slice(0, last), mid, ...db.children.slice(1)],
  )
}
