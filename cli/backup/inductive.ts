/**
 * Inductive verification of one `#commit` event against the backup's repo (sync spec,
 * "inductive firehose"): the event follows on from the local copy (`since` is the local rev,
 * `prevData` the local tree's root), its commit is signed by the DID's signing key, and its
 * ops applied to the local tree give exactly the commit's tree. Only then is the new repo
 * returned; nothing is changed on a failed check.
 */
import { decodeCbor } from '../../src/data/cbor.ts'
import { CID } from '../../src/data/cid.ts'
import type { ComAtprotoSyncSubscribeRepos } from '../../src/lexicon/generated/method-types.ts'
import { type BlockReader, MemoryBlockStore } from '../../src/repo/block-store.ts'
import { readCar } from '../../src/repo/car.ts'
import { type ParsedCommit, parseCommit, verifyCommitSignature } from '../../src/repo/commit.ts'
import { LocalRepo } from '../client/local-repo.ts'

export type RepoOp = ComAtprotoSyncSubscribeRepos.RepoOp

/** The fields of a `#commit` body the check reads. */
export type CommitEvent = Pick<
  ComAtprotoSyncSubscribeRepos.Commit,
  'seq' | 'repo' | 'commit' | 'rev' | 'since' | 'blocks' | 'ops' | 'prevData'
> & { tooBig?: boolean }

/**
 * `gap`: the event does not follow on from the local copy (a missed event); `unverifiable`:
 * it cannot be checked from the stream alone (`tooBig`); `invalid`: a check failed. All three
 * mean the same to the follower: fetch the changes from the PDS instead.
 */
export type RejectKind = 'gap' | 'unverifiable' | 'invalid'

export class CommitRejectedError extends Error {
  override name = 'CommitRejectedError'
  readonly kind: RejectKind

  constructor(kind: RejectKind, message: string) {
    super(message)
    this.kind = kind
  }
}

export interface NewRecord {
  path: string
  cid: CID
  value: unknown
}

export interface AppliedCommit {
  repo: LocalRepo
  /** Records created or updated by the commit, decoded (their blobs are to be fetched). */
  written: NewRecord[]
}

export async function applyCommitEvent(
  local: LocalRepo,
  event: CommitEvent,
  signingKey: string,
): Promise<AppliedCommit> {
  const did = local.commit.did
  const invalid = (message: string) => new CommitRejectedError('invalid', message)
  if (event.repo !== did) throw invalid(`the event is for ${event.repo}, not ${did}`)
  if (event.tooBig) {
    throw new CommitRejectedError('unverifiable', 'the commit is too big for the stream')
  }
  if (event.since !== local.rev) {
    throw new CommitRejectedError(
      'gap',
      `the event follows rev ${event.since ?? '(none)'}, the local copy is at ${local.rev}`,
    )
  }
  if (!event.prevData) throw invalid('the event has no prevData')
  if (!event.prevData.equals(local.data)) {
    throw invalid(`its prevData ${event.prevData} is not the local tree's root ${local.data}`)
  }

  const frame = await frameBlocks(event.blocks).catch((err: Error) => {
    throw invalid(`its blocks are not a valid CAR: ${err.message}`)
  })
  if (!frame.root?.equals(event.commit)) throw invalid('its CAR root is not its commit')
  const commit = await commitOf(frame.store, event.commit).catch((err: Error) => {
    throw invalid(`its commit block: ${err.message}`)
  })
  if (commit.did !== did) throw invalid(`its commit is signed for ${commit.did}`)
  if (commit.rev !== event.rev) throw invalid(`its commit is rev ${commit.rev}, not ${event.rev}`)
  if (commit.rev <= local.rev) throw invalid(`its rev ${commit.rev} does not follow ${local.rev}`)
  if (!(await verifyCommitSignature(commit, signingKey))) {
    throw invalid(`its commit signature does not verify with ${signingKey}`)
  }

  const store = new LayeredStore([frame.store, local.store])
  let tree = local.mst()
  const written: NewRecord[] = []
  for (const op of event.ops) {
    const current = await tree.get(op.path).catch((err: Error) => {
      throw invalid(`${op.path}: ${err.message}`)
    })
    const prevDiffers = op.prev !== undefined && !(current && op.prev.equals(current))
    if (op.action === 'create') {
      if (current || op.prev) throw invalid(`it creates ${op.path}, which exists`)
    } else if (op.action === 'update' || op.action === 'delete') {
      if (!current) throw invalid(`it ${op.action}s ${op.path}, which does not exist`)
      if (prevDiffers) throw invalid(`its ${op.action} of ${op.path} names another prev`)
    } else throw invalid(`unknown op ${op.action} on ${op.path}`)
    if (op.action === 'delete') {
      tree = await tree.delete(op.path)
      continue
    }
    if (!op.cid) throw invalid(`its ${op.action} of ${op.path} has no cid`)
    const bytes = await store.get(op.cid)
    if (!bytes) throw invalid(`its blocks lack the record ${op.path} (${op.cid})`)
    written.push({ path: op.path, cid: op.cid, value: decodeCbor(bytes) })
    tree =
      op.action === 'create' ? await tree.add(op.path, op.cid) : await tree.update(op.path, op.cid)
  }
  const root = await tree.rootCid()
  if (!root.equals(commit.data)) {
    throw invalid(`its ops applied to the local tree give ${root}, its commit says ${commit.data}`)
  }
  const fresh = new MemoryBlockStore()
  fresh.putMany(await tree.collectNewBlocks())
  const repo = await LocalRepo.at(new LayeredStore([fresh, frame.store, local.store]), event.commit)
  return { repo, written }
}

async function frameBlocks(car: Uint8Array): Promise<{ root?: CID; store: MemoryBlockStore }> {
  const { roots, blocks } = await readCar(car)
  const store = new MemoryBlockStore()
  for (const [key, bytes] of blocks) store.put(CID.parse(key), bytes)
  return { root: roots[0], store }
}

async function commitOf(store: BlockReader, cid: CID): Promise<ParsedCommit> {
  const bytes = await store.get(cid)
  if (!bytes) throw new Error('missing')
  return parseCommit(bytes)
}

/** Reads from the first layer that holds a block. */
class LayeredStore implements BlockReader {
  private readonly layers: BlockReader[]

  constructor(layers: BlockReader[]) {
    this.layers = layers
  }

  async get(cid: CID): Promise<Uint8Array | null> {
    for (const layer of this.layers) {
      const bytes = await layer.get(cid)
      if (bytes) return bytes
    }
    return null
  }
}
