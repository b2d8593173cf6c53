/**
 * Checks a repository received whole (com.atproto.repo.importRepo) before it replaces
 * anything: the root is a v3 commit of the expected DID; its MST is complete and well formed
 * (the node decoder checks key syntax, order, each key's layer, the subtree bounds and the
 * pruned top and bottom); every record is present and a DAG-CBOR map. Blocks are read through
 * a BlockReader a node (and a batch of records) at a time, so memory follows the tree's depth,
 * not its size. Whether the commit's signature matches a key is the caller's question.
 */
import { decodeCbor } from '../data/cbor.ts'
import type { CID } from '../data/cid.ts'
import { isPlainObject } from '../data/object.ts'
import type { BlockReader } from './block-store.ts'
import { CommitError, type ParsedCommit, parseCommit } from './commit.ts'
import { Mst } from './mst/index.ts'

export class RepoImportError extends Error {
  override name = 'RepoImportError'
}

export type ImportVisitor = {
  /** Each MST node of the tree, once. */
  node(cid: CID): void
  /** Each key with its record CID; a record may sit under several keys. */
  record(key: string, cid: CID): void
}

/** Records read per batch (BlockReader.getMany). */
const RECORD_BATCH = 256

/** The commit block at `root`, checked to be a v3 commit of `did`. */
export function parseImportedCommit(bytes: Uint8Array, did: string): ParsedCommit {
  let commit: ParsedCommit
  try {
    commit = parseCommit(bytes)
  } catch (err) {
    if (err instanceof CommitError) {
      throw new RepoImportError(`The CAR's root is not a repo commit: ${err.message}`)
    }
    throw err
  }
  if (commit.version !== 3) {
    throw new RepoImportError(`The repo commit is version ${commit.version}; only v3 is imported`)
  }
  if (commit.did !== did) {
    throw new RepoImportError(`The repo belongs to ${commit.did}, not to ${did}`)
  }
  return commit
}

/** Walks and checks the whole repo at `root`; returns its commit and its number of records. */
export async function checkImportedRepo(
  store: BlockReader,
  root: CID,
  did: string,
  visit: ImportVisitor,
): Promise<{ commit: ParsedCommit; records: number }> {
  const rootBytes = await store.get(root)
  if (!rootBytes) throw new RepoImportError(`The CAR lacks its root block ${root}`)
  const commit = parseImportedCommit(rootBytes, did)
  let records = 0
  let pending: { key: string; cid: CID }[] = []
  const flush = async () => {
    const batch = pending
    pending = []
    const cids = batch.map((entry) => entry.cid)
    const found = store.getMany ? await store.getMany(cids) : await Promise.all(cids.map(getOne))
    batch.forEach(({ key, cid }, i) => {
      const bytes = found[i]
      if (!bytes) throw new RepoImportError(`The CAR lacks the record ${key} (${cid})`)
      checkRecord(key, bytes)
    })
  }
  const getOne = (cid: CID) => store.get(cid)
  try {
    for await (const node of Mst.load(store, commit.data).walkNodes()) {
      visit.node(node.cid)
      for (const { key, value } of node.entries) {
        visit.record(key, value)
        pending.push({ key, cid: value })
        records++
      }
      if (pending.length >= RECORD_BATCH) await flush()
    }
    await flush()
  } catch (err) {
    if (err instanceof RepoImportError) throw err
    // A missing node, a node out of shape: the tree is not one we can take.
    throw new RepoImportError(`The repo's tree is incomplete or malformed: ${errorMessage(err)}`)
  }
  return { commit, records }
}

function checkRecord(key: string, bytes: Uint8Array): void {
  let value: unknown
  try {
    value = decodeCbor(bytes)
  } catch (err) {
    throw new RepoImportError(`The record ${key} is not valid DAG-CBOR: ${errorMessage(err)}`)
  }
  if (!isPlainObject(value)) throw new RepoImportError(`The record ${key} is not a map`)
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
