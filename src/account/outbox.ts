/**
 * The outbox: effects decided at a commit point, appended in the same SQLite transaction as
 * the head they follow from, and delivered afterwards (D1 index, event log, R2 archive).
 *
 * A row holds what cannot be recomputed from the repo: the event body (without `blocks`),
 * the CIDs of its CAR (read back from the block store on delivery, which keeps rows far below
 * SQLite's 2 MB row limit) and the record-index operations. Each destination has its own flag;
 * a row is deleted once all three are done. Ids only grow, across the object's whole life, so
 * the sequencer can drop retried deliveries by id.
 *
 * Deliveries to D1 and the event log are marked in memory first and written to the rows with
 * the next commit (or before anything reads the flags). A write of their own would be a
 * storage commit between the deliveries and the answer: in production the object's output
 * gate holds the answer until it is durable, and locally it was a fourth fsync per write. If
 * the object restarts before the marks are written, or the commit carrying them fails (they
 * are taken out of memory when written), those entries are delivered again, which every
 * destination ignores (the index by rev, the sequencer by outbox id).
 */
import { encodeCbor } from '../data/cbor.ts'
import type { BlockMap } from '../repo/block-map.ts'
import type { AppendEvent } from '../sequencer/event-log.ts'
import type { SqlLike } from '../storage/sql.ts'
import type { SqlBlockStore } from './block-store.ts'
import { type Destination, OutboxCache } from './outbox-cache.ts'
import {
  carFromRow,
  deliveriesFromMemory,
  eventFromRow,
  indexFromRow,
  type OutboxEntry,
  type OutboxRow,
} from './outbox-deliveries.ts'
import type { IndexCommit } from './record-index.ts'

export type { IndexOp, OutboxEntry, OutboxRow } from './outbox-deliveries.ts'

export class Outbox {
  private readonly sql: SqlLike
  private readonly blocks: SqlBlockStore
  private readonly prepared = new OutboxCache()
  /** Deliveries done and not yet written to their rows, by destination. */
  private readonly unwritten = { indexed: new Set<number>(), sequenced: new Set<number>() }

  constructor(sql: SqlLike, blocks: SqlBlockStore) {
    this.sql = sql
    this.blocks = blocks
  }

  /**
   * Call inside the commit transaction. `groupEnd` is the last id of the entries committed
   * together: they go to the sequencer in one call (activation's `#account`, `#identity` and
   * `#sync` reach a relay together, in order).
   */
  appendSync(id: number, entry: OutboxEntry, now: string, groupEnd = id): void {
    const { event, car, commit } = entry
    this.sql.exec(
      `INSERT INTO outbox (id, type, body, car_cids, rev, commit_cid, index_ops,
         indexed, sequenced, archived, created_at, group_end)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      groupEnd,
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
      const deliveries = deliveriesFromMemory(firstId + i, entry, blocks)
      if (deliveries) this.prepared.add(firstId + i, deliveries)
    })
    this.prepared.trim()
  }

  /** What the deliveries kept in memory hold (bounded: MAX_PREPARED, MAX_PREPARED_BYTES). */
  preparedSize(): { entries: number; bytes: number } {
    return this.prepared.size()
  }

  /** True once the entry reached both D1 and the event log (or is gone). */
  isDelivered(id: number): boolean {
    const { indexed, sequenced } = this.unwritten
    if (indexed.has(id) && sequenced.has(id)) return true
    const row = this.sql
      .exec<{ indexed: number; sequenced: number }>(
        'SELECT indexed, sequenced FROM outbox WHERE id = ?',
        id,
      )
      .toArray()[0]
    return (
      !row || ((row.indexed === 1 || indexed.has(id)) && (row.sequenced === 1 || sequenced.has(id)))
    )
  }

  /** The oldest entry's id, or null when the outbox is empty. */
  firstId(): number | null {
    this.writeMarks()
    return this.sql.exec<{ id: number | null }>('SELECT min(id) AS id FROM outbox').one().id
  }

  isEmpty(): boolean {
    this.writeMarks()
    return this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length === 0
  }

  /**
   * Entries not yet in D1 or not yet in the event log, oldest first: `limit` of them, and the
   * rest of the last one's group, which is never split.
   */
  pendingDelivery(limit: number): OutboxRow[] {
    this.writeMarks()
    const rows = this.sql
      .exec<OutboxRow>(
        'SELECT * FROM outbox WHERE indexed = 0 OR sequenced = 0 ORDER BY id LIMIT ?',
        limit,
      )
      .toArray()
    const last = rows.at(-1)
    if (!last || (last.group_end ?? last.id) <= last.id) return rows
    const rest = this.sql
      .exec<OutboxRow>(
        `SELECT * FROM outbox WHERE id > ? AND id <= ? AND (indexed = 0 OR sequenced = 0)
         ORDER BY id`,
        last.id,
        last.group_end,
      )
      .toArray()
    return [...rows, ...rest]
  }

  /** Entries not yet in R2, oldest first: `limit` of them, or those with ids in `range`. */
  pendingArchive(limit: number, range?: [number, number]): OutboxRow[] {
    this.writeMarks()
    if (range) {
      return this.sql
        .exec<OutboxRow>(
          'SELECT * FROM outbox WHERE archived = 0 AND id BETWEEN ? AND ? ORDER BY id',
          range[0],
          range[1],
        )
        .toArray()
    }
    return this.sql
      .exec<OutboxRow>('SELECT * FROM outbox WHERE archived = 0 ORDER BY id LIMIT ?', limit)
      .toArray()
  }

  /** How many commits wait for R2, and since when (epoch ms; null when none does). */
  archiveBacklog(): { commits: number; since: number | null } {
    this.writeMarks()
    const row = this.sql
      .exec<{ commits: number; since: string | null }>(
        'SELECT count(*) AS commits, min(created_at) AS since FROM outbox WHERE archived = 0',
      )
      .one()
    return { commits: row.commits, since: row.since === null ? null : Date.parse(row.since) }
  }

  /**
   * Records what reached D1 (`indexed`) and the event log (`sequenced`): in memory now, in the
   * rows with the next commit (`writeMarks`).
   */
  markDelivered(indexed: number[], sequenced: number[]): void {
    for (const id of indexed) this.unwritten.indexed.add(id)
    for (const id of sequenced) this.unwritten.sequenced.add(id)
    this.prepared.delivered(indexed, ['indexed'])
    this.prepared.delivered(sequenced, ['sequenced'])
  }

  /**
   * Writes the delivery marks kept in memory to their rows. The writer calls it inside each
   * commit's transaction; every read of the flags calls it first.
   */
  writeMarks(): void {
    const indexed = [...this.unwritten.indexed]
    const sequenced = [...this.unwritten.sequenced]
    if (indexed.length === 0 && sequenced.length === 0) return
    this.unwritten.indexed.clear()
    this.unwritten.sequenced.clear()
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
    this.writeMarks()
    this.sql.exec('UPDATE outbox SET archived = 1 WHERE archived = 0')
    this.sql.exec('DELETE FROM outbox WHERE indexed = 1 AND sequenced = 1 AND archived = 1')
    this.prepared.delivered(this.prepared.ids(), ['archived'])
  }

  /** The message for the sequencer, from memory or rebuilt from the row. */
  async eventOf(row: OutboxRow): Promise<AppendEvent> {
    return this.prepared.get(row.id)?.event ?? eventFromRow(row, this.blocks)
  }

  /** The D1 changes of a commit entry, from memory or rebuilt from the row. */
  indexOf(row: OutboxRow): IndexCommit {
    return this.prepared.get(row.id)?.index ?? indexFromRow(row, this.blocks)
  }

  async carOf(row: OutboxRow): Promise<Uint8Array> {
    return this.prepared.get(row.id)?.car ?? carFromRow(row, this.blocks)
  }

  /**
   * One UPDATE and one DELETE per run of consecutive ids (a round's ids usually are one run),
   * each by primary key: the cost stays with the entries marked, however long the outbox.
   */
  private mark(columns: Destination[], ids: number[]): void {
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
    this.prepared.delivered(ids, columns)
  }
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
