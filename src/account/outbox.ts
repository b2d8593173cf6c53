/**
 * The outbox: effects decided at a commit point, appended in the same SQLite transaction as
 * the head they follow from, and delivered afterwards (D1 index, event log, R2 archive).
 *
 * A row holds what cannot be recomputed from the repo: the event body (without `blocks`),
 * the CIDs of its CAR (read back from the block store on delivery, which keeps rows far below
 * SQLite's 2 MB row limit) and the record-index operations. Each destination has its own flag;
 * a row is deleted once all three are done. Ids only grow, across the object's whole life, so
 * the sequencer can drop retried deliveries by id.
 */
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import { CID } from '../data/cid.ts'
import { ipldToJson } from '../data/json.ts'
import type { BlockMap } from '../repo/block-map.ts'
import { encodeCarBytesSync } from '../repo/car.ts'
import type { AppendEvent, EventType } from '../sequencer/event-log.ts'
import { blobBytes, type SqlLike } from '../storage/sql.ts'
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
}

/** What an entry's deliveries send, each dropped once its destination has it. */
type PreparedDeliveries = {
  index?: IndexCommit
  event?: AppendEvent
  car?: Uint8Array
  /** What each part holds, counted in `preparedBytes` while the part is kept. */
  indexBytes: number
  eventBytes: number
  carBytes: number
}

/**
 * Fresh entries whose deliveries are kept ready in memory, and their bytes. The archive runs
 * about a second after the commits, so this holds about a second of writes; beyond either
 * bound (a burst of 200-write commits has CARs of up to 2 MB), the oldest are dropped and
 * rebuilt from SQLite when their turn comes.
 */
const MAX_PREPARED = 1024
const MAX_PREPARED_BYTES = 16 * 1024 * 1024

export class Outbox {
  private readonly sql: SqlLike
  private readonly blocks: SqlBlockStore
  private readonly prepared = new Map<number, PreparedDeliveries>()
  private preparedBytes = 0

  constructor(sql: SqlLike, blocks: SqlBlockStore) {
    this.sql = sql
    this.blocks = blocks
  }

  /** Call inside the commit transaction. */
  appendSync(id: number, entry: OutboxEntry, now: string): void {
    const { event, car, commit } = entry
    this.sql.exec(
      `INSERT INTO outbox (id, type, body, car_cids, rev, commit_cid, index_ops,
         indexed, sequenced, archived, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      event?.type ?? null,
      event ? encodeCbor(event.body) : null,
      car ? car.map((cid) => cid.toString()).join(' ') : null,
      commit?.rev ?? null,
      commit?.cid ?? null,
      commit ? encodeCbor(commit.ops) : null,
      commit ? 0 : 1,
      event ? 0 : 1,
      commit && car ? 0 : 1,
      now,
    )
  }

  /**
   * Call after the commit point with the commit's blocks: builds the entries' deliveries from
   * memory now, so that delivering them does not read the blocks back from SQLite and decode
   * what was just encoded. They are exactly what `indexOf`, `eventOf` and `carOf` would build
   * from the rows, which remain the source after a reset.
   */
  prepare(firstId: number, entries: OutboxEntry[], blocks: BlockMap): void {
    entries.forEach((entry, i) => {
      const id = firstId + i
      const carBlocks = entry.car?.map((cid) => ({ cid, bytes: blocks.get(cid) }))
      if (carBlocks?.some((block) => block.bytes === undefined)) return
      const car = carBlocks
        ? encodeCarBytesSync(carBlocks[0]!.cid, carBlocks as { cid: CID; bytes: Uint8Array }[])
        : undefined
      const prepared: PreparedDeliveries = { indexBytes: 0, eventBytes: 0, carBytes: 0 }
      if (entry.event) {
        const body = car ? { ...entry.event.body, blocks: car } : entry.event.body
        prepared.event = { outboxId: id, type: entry.event.type, body: encodeCbor(body) }
        prepared.eventBytes = prepared.event.body.length
      }
      if (entry.commit) {
        const { cid, rev, ops } = entry.commit
        prepared.index = indexCommitOf(rev, cid, ops, (recordCid) => {
          const bytes = blocks.get(CID.parse(recordCid))
          if (!bytes) throw new Error(`record block ${recordCid} is not in the commit`)
          return bytes
        })
        for (const upsert of prepared.index.upserts) prepared.indexBytes += upsert.value.length
        if (car) {
          prepared.car = car
          prepared.carBytes = car.length
        }
      }
      this.prepared.set(id, prepared)
      this.preparedBytes += prepared.indexBytes + prepared.eventBytes + prepared.carBytes
    })
    for (const [id, prepared] of this.prepared) {
      if (this.prepared.size <= MAX_PREPARED && this.preparedBytes <= MAX_PREPARED_BYTES) break
      this.drop(id, prepared)
    }
  }

  /** What the deliveries kept in memory hold (bounded: MAX_PREPARED, MAX_PREPARED_BYTES). */
  preparedSize(): { entries: number; bytes: number } {
    return { entries: this.prepared.size, bytes: this.preparedBytes }
  }

  /** True once the entry reached both D1 and the event log (or is gone). */
  isDelivered(id: number): boolean {
    const row = this.sql
      .exec<{ indexed: number; sequenced: number }>(
        'SELECT indexed, sequenced FROM outbox WHERE id = ?',
        id,
      )
      .toArray()[0]
    return !row || (row.indexed === 1 && row.sequenced === 1)
  }

  /** The oldest entry's id, or null when the outbox is empty. */
  firstId(): number | null {
    return this.sql.exec<{ id: number | null }>('SELECT min(id) AS id FROM outbox').one().id
  }

  isEmpty(): boolean {
    return this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length === 0
  }

  /** Entries not yet in D1 or not yet in the event log, oldest first. */
  pendingDelivery(limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(
        'SELECT * FROM outbox WHERE indexed = 0 OR sequenced = 0 ORDER BY id LIMIT ?',
        limit,
      )
      .toArray()
  }

  pendingArchive(limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>('SELECT * FROM outbox WHERE archived = 0 ORDER BY id LIMIT ?', limit)
      .toArray()
  }

  /** Records what reached D1 (`indexed`) and the event log (`sequenced`). */
  markDelivered(indexed: number[], sequenced: number[]): void {
    if (sameIds(indexed, sequenced)) {
      this.mark(['indexed', 'sequenced'], indexed)
    } else {
      this.mark(['indexed'], indexed)
      this.mark(['sequenced'], sequenced)
    }
  }

  markArchived(ids: number[]): void {
    this.mark(['archived'], ids)
  }

  /** Gives up on the R2 copies (the repo is being deleted). */
  skipArchives(): void {
    this.sql.exec('UPDATE outbox SET archived = 1 WHERE archived = 0')
    this.sql.exec('DELETE FROM outbox WHERE indexed = 1 AND sequenced = 1 AND archived = 1')
    for (const [id, prepared] of this.prepared) this.consume(id, prepared, ['archived'])
  }

  /** The message for the sequencer, with `blocks` rebuilt from the block store. */
  async eventOf(row: OutboxRow): Promise<AppendEvent> {
    const prepared = this.prepared.get(row.id)?.event
    if (prepared) return prepared
    if (!row.type || !row.body) throw new Error(`outbox entry ${row.id} has no event`)
    const body = decodeCbor<EventBody>(blobBytes(row.body))
    if (row.car_cids) body.blocks = await this.carOf(row)
    return { outboxId: row.id, type: row.type, body: encodeCbor(body) }
  }

  /** The D1 changes of a commit entry; record values are read back and turned into JSON. */
  indexOf(row: OutboxRow): IndexCommit {
    const prepared = this.prepared.get(row.id)?.index
    if (prepared) return prepared
    if (!row.rev || !row.commit_cid || !row.index_ops) {
      throw new Error(`outbox entry ${row.id} is not a commit`)
    }
    const ops = decodeCbor<IndexOp[]>(blobBytes(row.index_ops))
    return indexCommitOf(row.rev, row.commit_cid, ops, (cid) => {
      return this.blocks.requireSync([cid])[0]!.bytes
    })
  }

  async carOf(row: OutboxRow): Promise<Uint8Array> {
    const prepared = this.prepared.get(row.id)?.car
    if (prepared) return prepared
    if (!row.car_cids) throw new Error(`outbox entry ${row.id} has no CAR`)
    const blocks = this.blocks.requireSync(row.car_cids.split(' '))
    return encodeCarBytesSync(blocks[0]!.cid, blocks)
  }

  /**
   * One UPDATE and one DELETE per run of consecutive ids (a round's ids usually are one run),
   * each by primary key: the cost stays with the entries marked, however long the outbox.
   */
  private mark(columns: FlagColumn[], ids: number[]): void {
    if (ids.length === 0) return
    const set = columns.map((column) => `${column} = 1`).join(', ')
    for (const [from, to] of consecutiveRuns(ids)) {
      this.sql.exec(`UPDATE outbox SET ${set} WHERE id BETWEEN ? AND ?`, from, to)
      this.sql.exec(
        `DELETE FROM outbox WHERE id BETWEEN ? AND ?
           AND indexed = 1 AND sequenced = 1 AND archived = 1`,
        from,
        to,
      )
    }
    for (const id of ids) {
      const prepared = this.prepared.get(id)
      if (prepared) this.consume(id, prepared, columns)
    }
  }

  private consume(id: number, prepared: PreparedDeliveries, columns: FlagColumn[]): void {
    if (columns.includes('indexed') && prepared.index) {
      delete prepared.index
      this.preparedBytes -= prepared.indexBytes
    }
    if (columns.includes('sequenced') && prepared.event) {
      delete prepared.event
      this.preparedBytes -= prepared.eventBytes
    }
    if (columns.includes('archived') && prepared.car) {
      delete prepared.car
      this.preparedBytes -= prepared.carBytes
    }
    if (!prepared.index && !prepared.event && !prepared.car) this.prepared.delete(id)
  }

  private drop(id: number, prepared: PreparedDeliveries): void {
    this.prepared.delete(id)
    if (prepared.index) this.preparedBytes -= prepared.indexBytes
    if (prepared.event) this.preparedBytes -= prepared.eventBytes
    if (prepared.car) this.preparedBytes -= prepared.carBytes
  }
}

type FlagColumn = 'indexed' | 'sequenced' | 'archived'

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
    const value = JSON.stringify(ipldToJson(decodeCbor(readRecord(op.cid))))
    upserts.push({ collection: op.collection, rkey: op.rkey, cid: op.cid, value })
  }
  return { rev, commitCid, upserts, deletes }
}

/** Sorted ids as inclusive ranges of consecutive values: [1, 2, 3, 7] → [1, 3], [7, 7]. */
function consecutiveRuns(ids: number[]): [number, number][] {
  const sorted = [...ids].sort((a, b) => a - b)
  const runs: [number, number][] = []
  for (const id of sorted) {
    const last = runs[runs.length - 1]
    if (last && id === last[1] + 1) last[1] = id
    else if (!last || id !== last[1]) runs.push([id, id])
  }
  return runs
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i])
}
