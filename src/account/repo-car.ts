/**
 * The CARs of `com.atproto.sync.*`, built from an account's block store at its head:
 * - the whole repo (getRepo, getCheckout), streamed block by block;
 * - the change since an earlier rev (getRepo `since`): the blocks of the head that the repo at
 *   that rev did not have (new MST nodes, created and updated records), found by diffing the
 *   two trees, so its cost follows the size of the change;
 * - a record with its MST proof (sync.getRecord), which also proves absence.
 * Every CAR is rooted at the head commit, whose block comes first.
 */
import { decodeCbor } from '../data/cbor.ts'
import { CID } from '../data/cid.ts'
import type { Block } from '../repo/block-map.ts'
import { type BlockReader, readBlock } from '../repo/block-store.ts'
import { carToReadableStream, encodeCarBytes } from '../repo/car.ts'
import { parseCommit } from '../repo/commit.ts'
import { exportRepoBlocks } from '../repo/export.ts'
import { chunksToStream, type ReadBlocks, wholeRepoCar } from '../repo/export-stream.ts'
import { diffRoots, Mst } from '../repo/mst/index.ts'
import { blobBytes, type SqlLike } from '../storage/sql.ts'

/** Looks up the commit a repo had at `rev` (null if this store never had that rev). */
export type CommitAtRev = (rev: string) => Promise<CID | null>

export function repoCarStream(
  store: BlockReader,
  head: CID,
  opts: { since?: string | null; commitAtRev?: CommitAtRev; readBlocks?: ReadBlocks } = {},
): ReadableStream<Uint8Array> {
  const since = opts.since ?? null
  if (since !== null) return carToReadableStream(head, changedBlocks(store, head, since, opts))
  if (opts.readBlocks) return chunksToStream(wholeRepoCar(opts.readBlocks, head))
  return carToReadableStream(head, exportRepoBlocks(store, head))
}

async function* changedBlocks(
  store: BlockReader,
  head: CID,
  since: string,
  opts: { commitAtRev?: CommitAtRev },
): AsyncGenerator<Block, void, undefined> {
  const headBytes = await readBlock(store, head, 'commit block')
  const commit = parseCommit(headBytes)
  if (since >= commit.rev) {
    yield { cid: head, bytes: headBytes }
    return
  }
  const old = opts.commitAtRev ? await opts.commitAtRev(since) : null
  if (!old) {
    // A rev this repo never had: the whole repo is the only safe answer.
    yield* exportRepoBlocks(store, head)
    return
  }
  const oldCommit = parseCommit(await readBlock(store, old, 'commit block'))
  const diff = await diffRoots(store, oldCommit.data, commit.data)
  yield { cid: head, bytes: headBytes }
  for (const block of diff.newBlocks) yield block
  const records = new Map<string, CID>()
  for (const { cid } of [...diff.creates, ...diff.updates]) records.set(cid.toString(), cid)
  const cids = [...records.values()]
  const found = store.getMany ? await store.getMany(cids) : []
  for (const [i, cid] of cids.entries()) {
    yield { cid, bytes: found[i] ?? (await readBlock(store, cid, 'record block')) }
  }
}

/** The head commit, the MST nodes proving `path` present or absent, and the record if any. */
export async function recordProofCar(
  store: BlockReader,
  head: CID,
  path: string,
): Promise<Uint8Array> {
  const headBytes = await readBlock(store, head, 'commit block')
  const mst = Mst.load(store, parseCommit(headBytes).data)
  const blocks: Block[] = [{ cid: head, bytes: headBytes }]
  for (const block of await mst.proofBlocksForKey(path)) blocks.push(block)
  const record = await mst.get(path)
  if (record) blocks.push({ cid: record, bytes: await readBlock(store, record, 'record block') })
  return encodeCarBytes(head, blocks)
}

/**
 * The commit among blocks first stored at a rev (the account's block table keeps that rev):
 * the block that decodes as a signed commit of that rev.
 */
export function findCommitBlock(
  rows: Iterable<{ cid: string; bytes: Uint8Array }>,
  rev: string,
): CID | null {
  for (const row of rows) {
    let value: unknown
    try {
      value = decodeCbor(row.bytes)
    } catch {
      continue
    }
    if (!isCommitShape(value)) continue
    try {
      if (parseCommit(row.bytes).rev === rev) return CID.parse(row.cid)
    } catch {
      // Not a commit after all.
    }
  }
  return null
}

/** What a block is, by its shape: a signed commit, an MST node, or (anything else) a record. */
export function blockKind(bytes: Uint8Array): 'commit' | 'mst' | 'record' {
  let value: unknown
  try {
    value = decodeCbor(bytes)
  } catch {
    return 'record'
  }
  if (isCommitShape(value)) return 'commit'
  if (isMstNodeShape(value)) return 'mst'
  return 'record'
}

function isCommitShape(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.did === 'string' &&
    typeof v.rev === 'string' &&
    v.sig instanceof Uint8Array &&
    CID.asCID(v.data) !== null
  )
}

function isMstNodeShape(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 2 && keys.includes('e') && keys.includes('l')
}

/** CommitAtRev over an account's SQLite `block` table (each block keeps the rev it came with). */
export function commitAtRevFromSql(sql: SqlLike): CommitAtRev {
  return async (rev) => {
    const rows = sql.exec<{ cid: string; bytes: ArrayBuffer }>(
      'SELECT cid, bytes FROM block WHERE rev = ?',
      rev,
    )
    return findCommitBlock(
      Array.from(rows, (row) => ({ cid: row.cid, bytes: blobBytes(row.bytes) })),
      rev,
    )
  }
}

/** SQLite takes at most 100 bound parameters per statement in a Durable Object. */
const CIDS_PER_QUERY = 100

/** ReadBlocks over an account's SQLite `block` table. */
export function readBlocksFromSql(sql: SqlLike): ReadBlocks {
  return (cids) => {
    const out = new Map<string, Uint8Array>()
    for (let i = 0; i < cids.length; i += CIDS_PER_QUERY) {
      const chunk = cids.slice(i, i + CIDS_PER_QUERY)
      const rows = sql.exec<{ cid: string; bytes: ArrayBuffer }>(
        `SELECT cid, bytes FROM block WHERE cid IN (${chunk.map(() => '?').join(',')})`,
        ...chunk,
      )
      for (const row of rows) out.set(row.cid, blobBytes(row.bytes))
    }
    return out
  }
}
