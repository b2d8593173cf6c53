/**
 * The storage interface the MST reads blocks through, and an in-memory implementation.
 * Durable storage (the account's SQLite cache, R2) implements BlockReader elsewhere.
 */
import type { CID } from '../data/cid.ts'
import type { BlockMap } from './block-map.ts'

/**
 * Blocks are trusted to match their CIDs: whatever fills the store from outside (the CAR
 * reader) checks the hashes, so readers do not hash every block again.
 */
export interface BlockReader {
  get(cid: CID): Promise<Uint8Array | null>
  /** Batched read; the result is aligned with `cids`. */
  getMany?(cids: CID[]): Promise<(Uint8Array | null)[]>
  /** Lets collectNewBlocks() leave out nodes the store already holds. */
  has?(cid: CID): Promise<boolean>
}

export class MissingBlockError extends Error {
  override name = 'MissingBlockError'
  readonly cid: CID

  constructor(cid: CID, what = 'block') {
    super(`missing ${what}: ${cid.toString()}`)
    this.cid = cid
  }
}

/** Reads one block or throws MissingBlockError. */
export async function readBlock(store: BlockReader, cid: CID, what?: string): Promise<Uint8Array> {
  const bytes = await store.get(cid)
  if (!bytes) throw new MissingBlockError(cid, what)
  return bytes
}

export class MemoryBlockStore implements BlockReader {
  private readonly blocks = new Map<string, Uint8Array>()

  async get(cid: CID): Promise<Uint8Array | null> {
    return this.blocks.get(cid.toString()) ?? null
  }

  async getMany(cids: CID[]): Promise<(Uint8Array | null)[]> {
    return cids.map((cid) => this.blocks.get(cid.toString()) ?? null)
  }

  async has(cid: CID): Promise<boolean> {
    return this.blocks.has(cid.toString())
  }

  put(cid: CID, bytes: Uint8Array): void {
    this.blocks.set(cid.toString(), bytes)
  }

  putMany(blocks: BlockMap): void {
    for (const { cid, bytes } of blocks) this.put(cid, bytes)
  }

  get size(): number {
    return this.blocks.size
  }
}
