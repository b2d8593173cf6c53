/**
 * Builds commits: applies a batch of writes to the in-memory MST, signs the new commit and
 * gathers its blocks. Nothing is persisted here; the account stores the result in one
 * transaction (the commit point), so a write that fails part-way changes nothing.
 */
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import { CID, cidForCborBytes, isBlessedCid, parseCid } from '../data/cid.ts'
import { isPlainObject } from '../data/object.ts'
import { MAX_COMMIT_CAR_BYTES, MAX_RECORD_BYTES, MAX_WRITES_PER_COMMIT } from '../limits.ts'
import { BlockMap } from '../repo/block-map.ts'
import { commitToBlock, type SigningKey, signCommit } from '../repo/commit.ts'
import { isValidMstKey, type Mst } from '../repo/mst/index.ts'
import { varintLength } from '../repo/varint.ts'
import { isValidNsid } from '../syntax/nsid.ts'
import { isValidRecordKey } from '../syntax/record-key.ts'
import { nextTid } from '../syntax/tid.ts'
import { type CommitGarbage, commitGarbage } from './block-garbage.ts'
import { RepoWriteError } from './errors.ts'
import type { CommitOp } from './events.ts'
import type { IndexOp } from './outbox.ts'
import type { PreparedWrite, WriteOutcome } from './types.ts'

export type BuiltCommit = {
  mst: Mst
  commitCid: CID
  rev: string
  dataCid: CID
  /** What the block store lacks: the commit, new MST nodes and the written records. */
  newBlocks: BlockMap
  /** The CAR slice, commit first: also the proof nodes a reader needs to invert the ops. */
  car: CID[]
  /** The blocks of `car`, in its order (the commit first). */
  carBlocks: BlockMap
  ops: CommitOp[]
  indexOps: IndexOp[]
  results: WriteOutcome[]
  /** What the commit lets go of and takes back, for the block GC. */
  garbage: CommitGarbage
}

export type WriteContext = {
  did: string
  mst: Mst
  key: SigningKey
  /** The head's rev, or null for the first commit. */
  rev: string | null
  headCid: string | null
}

/** The first commit of a repo: an empty tree. */
export async function buildGenesisCommit(
  ctx: Omit<WriteContext, 'rev' | 'headCid'>,
): Promise<BuiltCommit> {
  return finishCommit(ctx, null, null, ctx.mst, [], new BlockMap(), [], [], [])
}

export async function buildWriteCommit(
  ctx: WriteContext,
  writes: PreparedWrite[],
  swapCommit: string | null | undefined,
): Promise<BuiltCommit> {
  if (!Array.isArray(writes) || writes.length === 0) {
    throw new RepoWriteError('InvalidRequest', 'No writes given')
  }
  if (writes.length > MAX_WRITES_PER_COMMIT) {
    throw new RepoWriteError('InvalidRequest', `Too many writes. Max: ${MAX_WRITES_PER_COMMIT}`)
  }
  if (swapCommit != null && swapCommit !== ctx.headCid) {
    throw new RepoWriteError('InvalidSwap', `Commit was at ${ctx.headCid}`)
  }
  let mst = ctx.mst
  /** Every record the writes bring, by CID; only those the new tree holds are kept. */
  const written = new BlockMap()
  /** Each key written, in the order first written, with its CID before the commit. */
  const touched = new Map<string, { collection: string; rkey: string; prev: CID | null }>()
  const results: WriteOutcome[] = []
  // Writes apply in order, each to the tree the ones before it left, so one key may be
  // written more than once (create then delete, delete then create...), as the reference PDS
  // allows; the commit records only each key's net change.
  for (const write of writes) {
    const path = checkPath(write)
    const uri = `at://${ctx.did}/${path}`
    const current = await mst.get(path)
    const { collection, rkey } = write
    if (!touched.has(path)) touched.set(path, { collection, rkey, prev: current })
    checkSwapRecord(write.swapRecord, current)
    if (write.action === 'delete') {
      if (!current) throw new RepoWriteError('RecordNotFound', `Could not locate record: ${uri}`)
      mst = await mst.delete(path)
      results.push({ action: 'delete', uri })
      continue
    }
    const action = write.action === 'put' ? (current ? 'update' : 'create') : write.action
    if (action !== 'create' && action !== 'update') {
      throw new RepoWriteError('InvalidRequest', `Unknown write action ${String(write.action)}`)
    }
    const cid = await recordCid(write)
    written.set(cid, write.record!)
    if (action === 'create') {
      if (current) throw new RepoWriteError('RecordAlreadyExists', `Record already exists: ${uri}`)
      mst = await mst.add(path, cid)
    } else {
      if (!current) throw new RepoWriteError('RecordNotFound', `Could not locate record: ${uri}`)
      mst = await mst.update(path, cid)
    }
    results.push({ action, uri, cid: cid.toString() })
  }
  const { ops, indexOps, records } = await netChanges(mst, touched, written)
  const paths = [...touched.keys()]
  const previous = { mst: ctx.mst, commitCid: ctx.headCid ? CID.parse(ctx.headCid) : null }
  return finishCommit(ctx, ctx.rev, previous, mst, paths, records, ops, indexOps, results)
}

/**
 * One op per key written, from its CID before the commit to its CID in the new tree: what a
 * relay inverting the ops against `prevData` expects, and what the index must apply. A key
 * created and deleted in the same commit has none. Also the records the new tree holds.
 */
async function netChanges(
  mst: Mst,
  touched: Map<string, { collection: string; rkey: string; prev: CID | null }>,
  written: BlockMap,
): Promise<{ ops: CommitOp[]; indexOps: IndexOp[]; records: BlockMap }> {
  const ops: CommitOp[] = []
  const indexOps: IndexOp[] = []
  const records = new BlockMap()
  for (const [path, { collection, rkey, prev }] of touched) {
    const cid = await mst.get(path)
    if (!cid) {
      if (!prev) continue
      ops.push({ action: 'delete', path, cid: null, prev })
      indexOps.push({ action: 'delete', collection, rkey, cid: null })
      continue
    }
    records.set(cid, written.get(cid)!)
    const action = prev ? 'update' : 'create'
    ops.push(prev ? { action, path, cid, prev } : { action, path, cid })
    indexOps.push({ action, collection, rkey, cid: cid.toString() })
  }
  return { ops, indexOps, records }
}

async function finishCommit(
  ctx: Pick<WriteContext, 'did' | 'key'>,
  previousRev: string | null,
  previous: { mst: Mst; commitCid: CID | null } | null,
  mst: Mst,
  paths: string[],
  records: BlockMap,
  ops: CommitOp[],
  indexOps: IndexOp[],
  results: WriteOutcome[],
): Promise<BuiltCommit> {
  const dataCid = await mst.rootCid()
  const rev = nextTid(previousRev)
  const commit = await signCommit(
    { did: ctx.did, version: 3, data: dataCid, rev, prev: null },
    ctx.key,
  )
  const commitBlock = await commitToBlock(commit)
  const nodes = await mst.collectNewBlocks()
  const slice = new BlockMap().set(commitBlock.cid, commitBlock.bytes).addMap(nodes)
  if (paths.length > 0) slice.addMap(await mst.proofBlocksForKeys(paths))
  else slice.set(dataCid, await rootBytes(mst, nodes, dataCid))
  slice.addMap(records)
  if (carByteLength(commitBlock.cid, slice) > MAX_COMMIT_CAR_BYTES) {
    throw new RepoWriteError(
      'InvalidRequest',
      `Commit too large: its blocks exceed ${MAX_COMMIT_CAR_BYTES} bytes`,
    )
  }
  const newBlocks = new BlockMap()
    .set(commitBlock.cid, commitBlock.bytes)
    .addMap(nodes)
    .addMap(records)
  return {
    mst,
    commitCid: commitBlock.cid,
    rev,
    dataCid,
    newBlocks,
    car: [...slice.cids()],
    carBlocks: slice,
    ops,
    indexOps,
    results,
    garbage: await commitGarbage(previous, mst, nodes),
  }
}

/** The root node's bytes, for a commit that wrote no key (the genesis commit). */
async function rootBytes(mst: Mst, nodes: BlockMap, root: CID): Promise<Uint8Array> {
  const fresh = nodes.get(root)
  if (fresh) return fresh
  const stored = await mst.store.get(root)
  if (!stored) throw new Error(`MST root ${root.toString()} is not in the store`)
  return stored
}

function checkPath(write: PreparedWrite): string {
  const { collection, rkey } = write
  if (typeof collection !== 'string' || !isValidNsid(collection)) {
    throw new RepoWriteError('InvalidRequest', `Invalid collection: ${String(collection)}`)
  }
  if (typeof rkey !== 'string' || !isValidRecordKey(rkey)) {
    throw new RepoWriteError('InvalidRequest', `Invalid record key: ${String(rkey)}`)
  }
  const path = `${collection}/${rkey}`
  if (!isValidMstKey(path)) throw new RepoWriteError('InvalidRequest', `Invalid repo path: ${path}`)
  return path
}

function checkSwapRecord(swap: string | null | undefined, current: CID | null): void {
  if (swap === undefined) return
  const matches = swap === null ? current === null : current !== null && current.toString() === swap
  if (!matches) {
    throw new RepoWriteError('InvalidSwap', `Record was at ${current?.toString() ?? 'null'}`)
  }
}

/** The record's CID, after checking the bytes are one DAG-CBOR map of acceptable size. */
async function recordCid(write: PreparedWrite): Promise<CID> {
  const bytes = write.record
  if (!(bytes instanceof Uint8Array)) {
    throw new RepoWriteError('InvalidRequest', `A ${write.action} needs the record bytes`)
  }
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RepoWriteError('InvalidRequest', `Record too large: ${bytes.length} bytes`)
  }
  let value: unknown
  try {
    value = decodeCbor(bytes)
  } catch (err) {
    throw new RepoWriteError('InvalidRequest', `Record is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (!isPlainObject(value)) throw new RepoWriteError('InvalidRequest', 'Record must be an object')
  const cid = await cidForCborBytes(bytes)
  if (write.cid !== undefined) {
    const given = parseCid(write.cid)
    if (!given || !isBlessedCid(given) || !given.equals(cid)) {
      throw new RepoWriteError('InvalidRequest', `Record CID ${write.cid} does not match its bytes`)
    }
  }
  return cid
}

/** Size of the CAR v1 the blocks make, without building it. */
function carByteLength(root: CID, blocks: BlockMap): number {
  const header = encodeCbor({ version: 1, roots: [root] }).length
  let size = varintLength(header) + header
  for (const { cid, bytes } of blocks) {
    const section = cid.bytes.length + bytes.length
    size += varintLength(section) + section
  }
  return size
}
