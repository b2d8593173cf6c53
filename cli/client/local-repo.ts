/**
 * A repo held in memory (a backup's, a migration's export): exactly the blocks its commit reaches (commit, MST nodes,
 * records), read from and written back to `repo.car` with the project's own CAR, commit and
 * MST code (src/repo), so the command needs no `@atproto/*` package at run time.
 */
import { CID } from '../../src/data/cid.ts'
import { type BlockReader, MemoryBlockStore, readBlock } from '../../src/repo/block-store.ts'
import { encodeCarBytes, readCar } from '../../src/repo/car.ts'
import { type ParsedCommit, parseCommit } from '../../src/repo/commit.ts'
import { exportRepoBlocks } from '../../src/repo/export.ts'
import { Mst } from '../../src/repo/mst/index.ts'

export class LocalRepo {
  readonly store: MemoryBlockStore
  readonly commitCid: CID
  readonly commit: ParsedCommit

  private constructor(store: MemoryBlockStore, commitCid: CID, commit: ParsedCommit) {
    this.store = store
    this.commitCid = commitCid
    this.commit = commit
  }

  get rev(): string {
    return this.commit.rev
  }

  get data(): CID {
    return this.commit.data
  }

  /** The repo at `root` in `store`, trimmed to what it reaches; throws if a block is missing. */
  static async at(store: BlockReader, root: CID): Promise<LocalRepo> {
    const reached = new MemoryBlockStore()
    for await (const { cid, bytes } of exportRepoBlocks(store, root)) reached.put(cid, bytes)
    return new LocalRepo(reached, root, parseCommit(await readBlock(reached, root, 'commit')))
  }

  /** A whole repo CAR (each block checked against its CID by the reader). */
  static async fromCar(car: Uint8Array): Promise<LocalRepo> {
    return LocalRepo.at(...(await storeOf([car])))
  }

  /**
   * A saved whole repo plus a `getRepo?since=` diff, as the repo at the diff's root; throws
   * (MissingBlockError) when the two do not make a whole.
   */
  static async merged(full: Uint8Array, diff: Uint8Array): Promise<LocalRepo> {
    return LocalRepo.at(...(await storeOf([full, diff])))
  }

  mst(): Mst {
    return Mst.load(this.store, this.data)
  }

  /** `collection/rkey` → record CID. */
  async records(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for await (const { key, value } of this.mst().entries()) out.set(key, value.toString())
    return out
  }

  /** The whole repo as a CAR: the commit, then each MST node followed by its records. */
  toCar(): Promise<Uint8Array> {
    return encodeCarBytes(this.commitCid, exportRepoBlocks(this.store, this.commitCid))
  }
}

/** The blocks of several CARs in one store, with the last CAR's root. */
async function storeOf(cars: Uint8Array[]): Promise<[MemoryBlockStore, CID]> {
  const store = new MemoryBlockStore()
  let root: CID | undefined
  for (const car of cars) {
    const read = await readCar(car)
    root = read.roots[0]
    for (const [key, bytes] of read.blocks) store.put(CID.parse(key), bytes)
  }
  if (!root) throw new Error('the CAR names no root')
  return [store, root]
}
