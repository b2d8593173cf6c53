/**
 * In-memory MST nodes. A node is logically immutable; operations build new nodes and share
 * the untouched ones. A node read from the store starts as a stub (CID only) and has its
 * decoded content memoized on first load, which every tree version sharing it benefits from.
 */
import type { CID } from '../../data/cid.ts'

export type NodeData = {
  /** Full keys, strictly ascending, all of height `layer`. */
  keys: string[]
  values: CID[]
  /** `keys.length + 1` subtrees: children[0] is `l`, children[i + 1] is entry i's `t`. */
  children: (MstNode | null)[]
}

export class MstNode {
  /** Height of every key in this node; -1 for a root stub not yet read. */
  layer: number
  /** Known for stored nodes, computed on demand for new ones. */
  cid: CID | null
  bytes: Uint8Array | null
  data: NodeData | null
  /** True when the block is (or is known to be) in the store. */
  stored: boolean
  /** Exclusive key bounds inherited from the parent, checked when the block is decoded. */
  readonly lo: string | null
  readonly hi: string | null

  private constructor(
    layer: number,
    cid: CID | null,
    data: NodeData | null,
    stored: boolean,
    lo: string | null,
    hi: string | null,
  ) {
    this.layer = layer
    this.cid = cid
    this.bytes = null
    this.data = data
    this.stored = stored
    this.lo = lo
    this.hi = hi
  }

  static stub(cid: CID, layer: number, lo: string | null, hi: string | null): MstNode {
    return new MstNode(layer, cid, null, true, lo, hi)
  }

  static create(
    layer: number,
    keys: string[],
    values: CID[],
    children: (MstNode | null)[],
  ): MstNode {
    return new MstNode(layer, null, { keys, values, children }, false, null, null)
  }

  static empty(): MstNode {
    return MstNode.create(0, [], [], [null])
  }
}
