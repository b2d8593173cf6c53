/**
 * Full verification of a repository CAR, the way an independent consumer would do it: every
 * block's hash (by the CAR reader), the commit's shape and signature, the MST's structure,
 * and the presence of every record the tree points at.
 */
import { decodeCbor } from '../data/cbor.ts'
import { CID } from '../data/cid.ts'
import { MemoryBlockStore, readBlock } from './block-store.ts'
import { readCar } from './car.ts'
import { type ParsedCommit, parseCommit, verifyCommitSignature } from './commit.ts'
import { Mst } from './mst/index.ts'

export class RepoVerificationError extends Error {
  override name = 'RepoVerificationError'
}

export interface VerifiedRecord {
  collection: string
  rkey: string
  cid: CID
  value: unknown
}

export interface VerifiedRepo {
  commitCid: CID
  commit: ParsedCommit
  records: VerifiedRecord[]
}

export interface VerifyOptions {
  /** The DID the repo must belong to. */
  did?: string
  /** did:key the commit signature must verify with. */
  signingKey?: string
}

export async function verifyRepoCar(
  car: Uint8Array,
  opts: VerifyOptions = {},
): Promise<VerifiedRepo> {
  const { roots, blocks } = await readCar(car)
  const root = roots[0]
  if (!root) throw new RepoVerificationError('CAR has no root')
  const store = new MemoryBlockStore()
  for (const [key, bytes] of blocks) store.put(CID.parse(key), bytes)

  const commit = parseCommit(await readBlock(store, root, 'commit block'))
  if (opts.did !== undefined && commit.did !== opts.did) {
    throw new RepoVerificationError(`commit is for ${commit.did}, expected ${opts.did}`)
  }
  if (opts.signingKey !== undefined && !(await verifyCommitSignature(commit, opts.signingKey))) {
    throw new RepoVerificationError('commit signature does not verify')
  }
  const records: VerifiedRecord[] = []
  for await (const { key, value } of Mst.load(store, commit.data).entries()) {
    const bytes = await readBlock(store, value, `record ${key}`)
    const slash = key.indexOf('/')
    records.push({
      collection: key.slice(0, slash),
      rkey: key.slice(slash + 1),
      cid: value,
      value: decodeCbor(bytes),
    })
  }
  return { commitCid: root, commit, records }
}
