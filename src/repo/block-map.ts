/**
 * A set of blocks keyed by CID: what an MST or commit hands to the layer that persists
 * them or writes them into a CAR.
 */
import type { CID } from '../data/cid.ts'

export type Block = { cid: CID; bytes: Uint8Array }

export class BlockMap implements Iterable<Block> {
  private readonly blocks = new Map<string, Block>()
  private bytesTotal = 0

  set(cid: CID, bytes: Uint8Array): this {
    const key = cid.toString()
    const old = this.blocks.get(key)
    if (old) this.bytesTotal -= old.bytes.byteLength
    this.blocks.set(key, { cid, bytes })
    this.bytesTotal += bytes.byteLength
    return this
  }

  get(cid: CID): Uint8Array | undefined {
    return this.blocks.get(cid.toString())?.bytes
  }

  has(cid: CID): boolean {
    return this.blocks.has(cid.toString())
  }

  delete(cid: CID): boolean {
    const key = cid.toString()
    const old = this.blocks.get(key)
    if (!old) return false
    this.bytesTotal -= old.bytes.byteLength
    return this.blocks.delete(key)
  }

  /** Copies every block of `other` into this map. */
  addMap(other: BlockMap): this {
    for (const block of other) this.set(block.cid, block.bytes)
    return this
  }

  entries(): IterableIterator<Block> {
    return this.blocks.values()
  }

  *cids(): IterableIterator<CID> {
    for (const block of this.blocks.values()) yield block.cid
  }

  [Symbol.iterator](): IterableIterator<Block> {
    return this.blocks.values()
  }

  get size(): number {
    return this.blocks.size
  }

  /** Sum of the block lengths, CIDs not counted. */
  get byteSize(): number {
    return this.bytesTotal
  }
}
