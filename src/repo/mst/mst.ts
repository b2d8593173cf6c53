/**
 * The Merkle Search Tree of a repository: a persistent (immutable) map from repo paths to
 * record CIDs, read lazily through a BlockReader.
 *
 * Every write returns a new Mst sharing the untouched subtrees with the old one; a write reads
 * and re-encodes only the nodes on its key's path. New nodes are hashed on demand (rootCid,
 * collectNewBlocks), so a batch of writes hashes each final node once.
 */
import type { CID } from '../../data/cid.ts'
import { type Block, BlockMap } from '../block-map.ts'
import type { BlockReader } from '../block-store.ts'
import { diffTrees, type MstDiff } from './diff.ts'
import { ensureValidMstKey, keyHeight } from './key.ts'
import { loadNode, nodeCid } from './load.ts'
import { MstNode } from './node.ts'
import { deleteFromTree, getValue, type PutMode, putInTree } from './ops.ts'
import { addProofBlocks } from './proof.ts'
import { type ListOptions, type MstEntry, type WalkedNode, walkEntries, walkNodes } from './walk.ts'

export class Mst {
  readonly store: BlockReader
  private readonly root: MstNode

  private constructor(store: BlockReader, root: MstNode) {
    this.store = store
    this.root = root
  }

  /** An empty tree. */
  static create(store: BlockReader): Mst {
    return new Mst(store, MstNode.empty())
  }

  /** The tree rooted at `root`; nothing is read until an operation needs it. */
  static load(store: BlockReader, root: CID): Mst {
    return new Mst(store, MstNode.stub(root, -1, null, null))
  }

  /** The key-level changes from `from` (null: an empty history) to `to`. */
  static diff(from: Mst | null, to: Mst): Promise<MstDiff> {
    return diffTrees(from?.root ?? null, to.root, from?.store ?? to.store, to.store)
  }

  async get(key: string): Promise<CID | null> {
    return getValue(this.root, key, this.store)
  }

  /** Inserts a new key; throws MstKeyExistsError if it is already there. */
  add(key: string, value: CID): Promise<Mst> {
    return this.write(key, value, 'add')
  }

  /** Changes the value of an existing key; throws MstKeyNotFoundError if it is missing. */
  update(key: string, value: CID): Promise<Mst> {
    return this.write(key, value, 'update')
  }

  /** Inserts or updates. */
  put(key: string, value: CID): Promise<Mst> {
    return this.write(key, value, 'put')
  }

  /** Removes a key; throws MstKeyNotFoundError if it is missing. */
  async delete(key: string): Promise<Mst> {
    ensureValidMstKey(key)
    const root = await this.loadedRoot()
    return new Mst(this.store, await deleteFromTree(root, key, keyHeight(key), this.store))
  }

  async rootCid(): Promise<CID> {
    return this.root.cid ?? nodeCid(this.root)
  }

  entries(opts: ListOptions = {}): AsyncGenerator<MstEntry, void, undefined> {
    return walkEntries(this.root, this.store, opts)
  }

  async list(opts: ListOptions = {}): Promise<MstEntry[]> {
    const out: MstEntry[] = []
    for await (const entry of walkEntries(this.root, this.store, opts)) out.push(entry)
    return out
  }

  /**
   * The nodes written since the tree was loaded (or created) that the store does not hold,
   * when it can tell (BlockReader.has): what a commit must persist.
   */
  async collectNewBlocks(): Promise<BlockMap> {
    const fresh = this.newNodes()
    const blocks = new BlockMap()
    const has = this.store.has?.bind(this.store)
    const known = has ? await Promise.all(fresh.map((node) => has(node.cid!))) : []
    fresh.forEach((node, i) => {
      if (!known[i]) blocks.set(node.cid!, node.bytes!)
    })
    return blocks
  }

  /**
   * Records that the blocks from collectNewBlocks() are now in the store, so the next call
   * returns only what later writes add. The decoded nodes stay cached.
   */
  markStored(): void {
    for (const node of this.newNodes()) node.stored = true
  }

  /** Every node block, in pre-order, streamed: for full exports. */
  async *walkBlocks(): AsyncGenerator<Block, void, undefined> {
    for await (const { cid, bytes } of walkNodes(this.root, this.store)) yield { cid, bytes }
  }

  /** Every node with its entries, in pre-order, so record blocks can be interleaved. */
  walkNodes(): AsyncGenerator<WalkedNode, void, undefined> {
    return walkNodes(this.root, this.store)
  }

  /** Nodes proving `key` present or absent and letting a reader invert a write to it. */
  proofBlocksForKey(key: string): Promise<BlockMap> {
    return addProofBlocks(this.root, key, this.store)
  }

  /** Union of the proofs of several keys (the MST part of a commit's CAR slice). */
  async proofBlocksForKeys(keys: Iterable<string>): Promise<BlockMap> {
    const out = new BlockMap()
    for (const key of keys) await addProofBlocks(this.root, key, this.store, out)
    return out
  }

  private async write(key: string, value: CID, mode: PutMode): Promise<Mst> {
    ensureValidMstKey(key)
    const root = await this.loadedRoot()
    const next = await putInTree(root, key, value, keyHeight(key), mode, this.store)
    return next === root ? this : new Mst(this.store, next)
  }

  private async loadedRoot(): Promise<MstNode> {
    if (!this.root.data) await loadNode(this.root, this.store)
    return this.root
  }

  /** New nodes reachable from the root, with their CIDs computed. */
  private newNodes(): MstNode[] {
    nodeCid(this.root)
    const out: MstNode[] = []
    const stack: MstNode[] = [this.root]
    while (stack.length > 0) {
      const node = stack.pop()!
      if (node.stored) continue
      out.push(node)
      for (const child of node.data!.children) if (child) stack.push(child)
    }
    return out
  }
}

/** Diff between two roots read from one store; `from` null means everything is created. */
export function diffRoots(store: BlockReader, from: CID | null, to: CID): Promise<MstDiff> {
  return Mst.diff(from ? Mst.load(store, from) : null, Mst.load(store, to))
}
