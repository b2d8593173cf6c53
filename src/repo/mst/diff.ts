/**
 * Key-level difference between two trees. Both are walked in key order side by side, and a
 * subtree with the same CID on both sides is skipped without being read, so the cost follows
 * the size of the change rather than the size of the trees.
 */
import type { CID } from '../../data/cid.ts'
import { BlockMap } from '../block-map.ts'
import type { BlockReader } from '../block-store.ts'
import { nodeCid, readNode } from './load.ts'
import type { MstNode, NodeData } from './node.ts'

export type MstCreate = { key: string; cid: CID }
export type MstUpdate = { key: string; cid: CID; prev: CID }
export type MstDelete = { key: string; prev: CID }

export type MstDiff = {
  creates: MstCreate[]
  updates: MstUpdate[]
  deletes: MstDelete[]
  /** Nodes of the new tree that the old one lacks. */
  newBlocks: BlockMap
  /** Nodes of the old tree that the new one lacks. */
  removedCids: CID[]
}

/** An in-order position: a subtree (`node`) or a leaf (`key`, `value`); neither when done. */
class Cursor {
  node: MstNode | null
  key: string | null = null
  value: CID | null = null
  private readonly stack: { data: NodeData; pos: number }[] = []
  private readonly store: BlockReader
  private readonly seen: BlockMap

  constructor(root: MstNode | null, store: BlockReader, seen: BlockMap) {
    this.node = root
    this.store = store
    this.seen = seen
  }

  get done(): boolean {
    return this.node === null && this.key === null
  }

  async stepInto(): Promise<void> {
    const { data, cid, bytes } = await readNode(this.node!, this.store)
    this.seen.set(cid, bytes)
    this.stack.push({ data, pos: -1 })
    this.advance()
  }

  advance(): void {
    this.node = null
    this.key = null
    this.value = null
    for (;;) {
      const top = this.stack[this.stack.length - 1]
      if (!top) return
      top.pos++
      const { keys, values, children } = top.data
      if (top.pos > 2 * keys.length) {
        this.stack.pop()
        continue
      }
      if (top.pos % 2 === 0) {
        const child = children[top.pos >> 1]
        if (!child) continue
        this.node = child
        return
      }
      const i = top.pos >> 1
      this.key = keys[i]!
      this.value = values[i]!
      return
    }
  }
}

function cidOf(node: MstNode): CID {
  return node.cid ?? nodeCid(node)
}

export async function diffTrees(
  from: MstNode | null,
  to: MstNode,
  fromStore: BlockReader,
  toStore: BlockReader,
): Promise<MstDiff> {
  const oldSeen = new BlockMap()
  const newSeen = new BlockMap()
  const a = new Cursor(from, fromStore, oldSeen)
  const b = new Cursor(to, toStore, newSeen)
  const diff: MstDiff = {
    creates: [],
    updates: [],
    deletes: [],
    newBlocks: new BlockMap(),
    removedCids: [],
  }

  if (from && cidOf(from).equals(cidOf(to))) return diff
  // Root stubs do not know their layer until read, so both roots are always entered.
  if (!a.done) await a.stepInto()
  await b.stepInto()

  while (!a.done || !b.done) {
    if (a.node && b.node) {
      if (cidOf(a.node).equals(cidOf(b.node))) {
        a.advance()
        b.advance()
      } else if (a.node.layer > b.node.layer) {
        await a.stepInto()
      } else if (b.node.layer > a.node.layer) {
        await b.stepInto()
      } else {
        await a.stepInto()
        await b.stepInto()
      }
    } else if (a.node) {
      await a.stepInto()
    } else if (b.node) {
      await b.stepInto()
    } else if (a.key !== null && (b.key === null || a.key < b.key)) {
      diff.deletes.push({ key: a.key, prev: a.value! })
      a.advance()
    } else if (b.key !== null && (a.key === null || b.key < a.key)) {
      diff.creates.push({ key: b.key, cid: b.value! })
      b.advance()
    } else {
      if (!a.value!.equals(b.value!)) {
        diff.updates.push({ key: a.key!, cid: b.value!, prev: a.value! })
      }
      a.advance()
      b.advance()
    }
  }

  for (const block of newSeen) {
    if (!oldSeen.has(block.cid)) diff.newBlocks.set(block.cid, block.bytes)
  }
  for (const block of oldSeen) {
    if (!newSeen.has(block.cid)) diff.removedCids.push(block.cid)
  }
  return diff
}
