/**
 * Building what an outbox entry delivers — the D1 index changes, the sequencer's event with
 * its CAR, the CAR for R2 — either from a fresh commit's blocks in memory or from the stored
 * row (after a reset, or once the memory copy was dropped). Both give the same bytes.
 */

import { blobCidsOfRecord } from '../blobs/refs.ts'
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import { CID } from '../data/cid.ts'
import { ipldToJson } from '../data/json.ts'
import { utf8Length } from '../data/utf8.ts'
import { MAX_RECORD_JSON_BYTES } from '../limits.ts'
import type { BlockMap } from '../repo/block-map.ts'
import { encodeCarBytesSync } from '../repo/car.ts'
import type { AppendEvent, EventType } from '../sequencer/event-log.ts'
import { blobBytes } from '../storage/sql.ts'
import type { SqlBlockStore } from './block-store.ts'
import type { EventBody } from './events.ts'
import type { IndexCommit, IndexDelete, IndexUpsert } from './record-index.ts'

export type IndexOp = {
  action: 'create' | 'update' | 'delete'
  collection: string
  rkey: string
  /** The record CID; null for a delete. */
  cid: string | null
}

export type OutboxEntry = {
  event?: { type: EventType; body: EventBody }
  /** The blocks of the CAR, root first: the event's `blocks`, and the R2 object of a commit. */
  car?: CID[]
  /** Set for commits: the index changes and `repo_root`, and the R2 archive of `car`. */
  commit?: { cid: string; rev: string; ops: IndexOp[] }
}

export type OutboxRow = {
  id: number
  type: EventType | null
  body: ArrayBuffer | null
  car_cids: string | null
  rev: string | null
  commit_cid: string | null
  index_ops: ArrayBuffer | null
  indexed: number
  sequenced: number
  archived: number
  /** The last id of the entries committed with this one; null for entries stored before. */
  group_end: number | null
}

/** What an entry's deliveries send, each dropped once its destination has it. */
export type Deliveries = {
  index?: IndexCommit
  event?: AppendEvent
  car?: Uint8Array
  /** What each part holds, counted while the part is kept. */
  indexBytes: number
  eventBytes: number
  carBytes: number
}

/**
 * The deliveries of entry `id` from the commit's blocks in memory; null when the CAR names a
 * block the commit did not bring (one stored earlier), which only the row can rebuild.
 */
export function deliveriesFromMemory(
  id: number,
  entry: OutboxEntry,
  blocks: BlockMap,
): Deliveries | null {
  const carBlocks = entry.car?.map((cid) => ({ cid, bytes: blocks.get(cid) }))
  if (carBlocks?.some((block) => block.bytes === undefined)) return null
  const car = carBlocks
    ? encodeCarBytesSync(carBlocks[0]!.cid, carBlocks as { cid: CID; bytes: Uint8Array }[])
    : undefined
  const out: Deliveries = { indexBytes: 0, eventBytes: 0, carBytes: 0 }
  if (entry.event) {
    const body = car ? { ...entry.event.body, blocks: car } : entry.event.body
    out.event = { outboxId: id, type: entry.event.type, body: encodeCbor(body) }
    out.eventBytes = out.event.body.length
  }
  if (entry.commit) {
    const { cid, rev, ops } = entry.commit
    out.index = indexCommitOf(rev, cid, ops, (recordCid) => {
      const bytes = blocks.get(CID.parse(recordCid))
      if (!bytes) throw new Error(`record block ${recordCid} is not in the commit`)
      return bytes
    })
    out.indexBytes = indexBytesOf(out.index)
    if (car) {
      out.car = car
      out.carBytes = car.length
    }
  }
  return out
}

/** The message for the sequencer, with `blocks` rebuilt from the block store. */
export function eventFromRow(row: OutboxRow, blocks: SqlBlockStore): AppendEvent {
  if (!row.type || !row.body) throw new Error(`outbox entry ${row.id} has no event`)
  const body = decodeCbor<EventBody>(blobBytes(row.body))
  if (row.car_cids) body.blocks = carFromRow(row, blocks)
  return { outboxId: row.id, type: row.type, body: encodeCbor(body) }
}

/** The D1 changes of a commit entry; record values are read back and turned into JSON. */
export function indexFromRow(row: OutboxRow, blocks: SqlBlockStore): IndexCommit {
  if (!row.rev || !row.commit_cid || !row.index_ops) {
    throw new Error(`outbox entry ${row.id} is not a commit`)
  }
  const ops = decodeCbor<IndexOp[]>(blobBytes(row.index_ops))
  return indexCommitOf(row.rev, row.commit_cid, ops, (cid) => {
    return blocks.requireSync([cid])[0]!.bytes
  })
}

export function carFromRow(row: OutboxRow, blocks: SqlBlockStore): Uint8Array {
  if (!row.car_cids) throw new Error(`outbox entry ${row.id} has no CAR`)
  const stored = blocks.requireSync(row.car_cids.split(' '))
  return encodeCarBytesSync(stored[0]!.cid, stored)
}

/** A commit's D1 changes; `readRecord` gives a written record's DAG-CBOR bytes by CID. */
function indexCommitOf(
  rev: string,
  commitCid: string,
  ops: IndexOp[],
  readRecord: (cid: string) => Uint8Array,
): IndexCommit {
  const upserts: IndexUpsert[] = []
  const deletes: IndexDelete[] = []
  for (const op of ops) {
    if (op.action === 'delete' || !op.cid) {
      deletes.push({ collection: op.collection, rkey: op.rkey })
      continue
    }
    upserts.push(indexUpsertOf(op.collection, op.rkey, op.cid, readRecord(op.cid)))
  }
  return { rev, commitCid, upserts, deletes }
}

/** A record's index row: its JSON (if it fits a D1 value) and the blobs it references. */
export function indexUpsertOf(
  collection: string,
  rkey: string,
  cid: string,
  bytes: Uint8Array,
): IndexUpsert {
  const record = decodeCbor(bytes)
  const json = JSON.stringify(ipldToJson(record))
  const value = fitsIndex(json) ? json : null
  return { collection, rkey, cid, value, blobs: blobCidsOfRecord(record) }
}

/** What a commit's index changes weigh, for bounding deliveries and the memory they take. */
export function indexBytesOf(commit: IndexCommit): number {
  let bytes = 0
  for (const upsert of commit.upserts) bytes += upsert.value?.length ?? 0
  return bytes
}

/**
 * Whether a record's JSON fits a D1 value. Records written through the Worker always do
 * (prepare.ts refuses others before the commit); one committed before that check is indexed
 * without its value rather than failing its batch on every retry.
 */
function fitsIndex(json: string): boolean {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most records need no encoding to tell.
  if (json.length * 3 <= MAX_RECORD_JSON_BYTES) return true
  return utf8Length(json) <= MAX_RECORD_JSON_BYTES
}
