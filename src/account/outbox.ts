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
import type { CID } from '../data/cid.ts'
import { ipldToJson } from '../data/json.ts'
import { encodeCarBytes } from '../repo/car.ts'
import type { AppendEvent, EventType } from '../sequencer/event-log.ts'
import { blobBytes, type SqlLike } from '../sequencer/sql.ts'
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

export class Outbox {
  private readonly sql: SqlLike
  private readonly blocks: SqlBlockStore

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

  markIndexed(ids: number[]): void {
    this.mark('indexed', ids)
  }

  markSequenced(ids: number[]): void {
    this.mark('sequenced', ids)
  }

  markArchived(ids: number[]): void {
    this.mark('archived', ids)
  }

  /** Gives up on the R2 copies (the repo is being deleted). */
  skipArchives(): void {
    this.sql.exec('UPDATE outbox SET archived = 1 WHERE archived = 0')
    this.deleteDone()
  }

  /** The message for the sequencer, with `blocks` rebuilt from the block store. */
  async eventOf(row: OutboxRow): Promise<AppendEvent> {
    if (!row.type || !row.body) throw new Error(`outbox entry ${row.id} has no event`)
    const body = decodeCbor<EventBody>(blobBytes(row.body))
    if (row.car_cids) body.blocks = await this.carOf(row)
    return { outboxId: row.id, type: row.type, body: encodeCbor(body) }
  }

  /** The D1 changes of a commit entry; record values are read back and turned into JSON. */
  indexOf(row: OutboxRow): IndexCommit {
    if (!row.rev || !row.commit_cid || !row.index_ops) {
      throw new Error(`outbox entry ${row.id} is not a commit`)
    }
    const upserts: IndexUpsert[] = []
    const deletes: IndexDelete[] = []
    for (const op of decodeCbor<IndexOp[]>(blobBytes(row.index_ops))) {
      if (op.action === 'delete' || !op.cid) {
        deletes.push({ collection: op.collection, rkey: op.rkey })
        continue
      }
      const [record] = this.blocks.requireSync([op.cid])
      const value = JSON.stringify(ipldToJson(decodeCbor(record!.bytes)))
      upserts.push({ collection: op.collection, rkey: op.rkey, cid: op.cid, value })
    }
    return { rev: row.rev, commitCid: row.commit_cid, upserts, deletes }
  }

  async carOf(row: OutboxRow): Promise<Uint8Array> {
    if (!row.car_cids) throw new Error(`outbox entry ${row.id} has no CAR`)
    const blocks = this.blocks.requireSync(row.car_cids.split(' '))
    return encodeCarBytes(blocks[0]!.cid, blocks)
  }

  private mark(column: 'indexed' | 'sequenced' | 'archived', ids: number[]): void {
    if (ids.length === 0) return
    for (const id of ids) this.sql.exec(`UPDATE outbox SET ${column} = 1 WHERE id = ?`, id)
    this.deleteDone()
  }

  private deleteDone(): void {
    this.sql.exec('DELETE FROM outbox WHERE indexed = 1 AND sequenced = 1 AND archived = 1')
  }
}
