/**
 * Garbage collection of the account's blocks: what each commit makes unreachable is recorded
 * inside the commit transaction, and deleted later by a sweep.
 *
 * Marking (per commit, `recordSync`), as ONE row of `garbage_batch` keyed by the commit's
 * first outbox id, listing in order: the previous commit, the MST nodes of the old tree that
 * the new one lacks (a node's CID fixes its keys, so it cannot sit twice in one tree), and the
 * record blocks whose reference count (`block.refs`, the number of keys pointing at the CID)
 * dropped to 0. Rows from before the count existed have `refs` NULL and are never marked. One
 * row appended at the end of an integer key keeps the write cheap: a row per block, keyed by
 * CID, dirtied a random page per block in every commit (measured: about 0.5 ms a write).
 *
 * A later commit can bring a marked block back (a key deleted and created again with the same
 * content brings back the tree's earlier nodes; a record written again). Those, rare, go to
 * `block_revived` with the id of the commit that revived them: a mark older than the revival
 * is void. So the blocks of the head are never deleted.
 *
 * Sweeping (`sweepSync`) takes the batches in outbox order, and only those that no older
 * outbox entry may still read (an entry's CAR names its blocks and is read back later) and
 * that were marked long enough ago for a relay that just saw the commit to fetch its blocks.
 * Within a batch the previous commit goes first, so while an old commit is still stored, every
 * node of its tree is too (getRepo `since` diffs against it).
 */
import type { CID } from '../data/cid.ts'
import type { BlockMap } from '../repo/block-map.ts'
import { Mst } from '../repo/mst/index.ts'
import type { SqlLike } from '../storage/sql.ts'

export type CommitGarbage = {
  /** The commit this one replaces (null for the first). */
  previousCommit: CID | null
  /** MST nodes the new head no longer reaches. */
  removedNodes: CID[]
  /** MST nodes of the new tree that were already stored: possibly marked before. */
  revivedNodes: CID[]
  /** Net change, per record CID, of the number of keys pointing at it. */
  recordRefs: Map<string, number>
}

/**
 * What a commit from `previous` (null: the first commit) to the tree `next` makes garbage;
 * `storedNodes` are the new tree's nodes the commit stores (collectNewBlocks). The diff skips
 * shared subtrees; the nodes it reads are those the writes just visited, kept decoded in
 * memory, so it reads no block from the store.
 */
export async function commitGarbage(
  previous: { mst: Mst; commitCid: CID | null } | null,
  next: Mst,
  storedNodes: BlockMap,
): Promise<CommitGarbage> {
  const diff = await Mst.diff(previous?.mst ?? null, next)
  const recordRefs = new Map<string, number>()
  const add = (cid: CID, delta: number) => {
    const key = cid.toString()
    recordRefs.set(key, (recordRefs.get(key) ?? 0) + delta)
  }
  for (const { cid } of diff.creates) add(cid, 1)
  for (const { cid, prev } of diff.updates) {
    add(cid, 1)
    add(prev, -1)
  }
  for (const { prev } of diff.deletes) add(prev, -1)
  return {
    previousCommit: previous?.commitCid ?? null,
    removedNodes: diff.removedCids,
    revivedNodes: [...diff.newBlocks.cids()].filter((cid) => !storedNodes.has(cid)),
    recordRefs,
  }
}

export type SweepBatch = {
  /** Blocks deleted. */
  deleted: number
  /**
   * Why the sweep stopped: nothing left, the batch limit (more may be eligible now), an older
   * outbox entry, or the grace period (`eligibleAt`: when the next mark is old enough).
   */
  stop: 'empty' | 'limit' | 'outbox' | 'grace'
  eligibleAt?: number
}

type BatchRow = { outbox_id: number; cids: string; marked_at: number }

export class BlockGarbage {
  private readonly sql: SqlLike

  constructor(sql: SqlLike) {
    this.sql = sql
  }

  /**
   * Records a commit's garbage; call inside the commit transaction, after its blocks are
   * stored with `refs` 0 and rev `rev` (so every record it points at has a row). `outboxId` is
   * the commit's first entry: older entries may still read the blocks marked here.
   */
  recordSync(garbage: CommitGarbage, outboxId: number, rev: string, now: number): void {
    const revived = garbage.revivedNodes.map(String)
    for (const [cid, delta] of garbage.recordRefs) {
      if (delta <= 0) continue
      const row = this.sql
        .exec<{ refs: number | null; rev: string }>(
          'UPDATE block SET refs = refs + ? WHERE cid = ? RETURNING refs, rev',
          delta,
          cid,
        )
        .toArray()[0]
      // Back from 0 on a row an earlier commit stored: it may be marked. (NULL stays NULL.)
      if (row && row.refs === delta && row.rev !== rev) revived.push(cid)
    }
    for (const cid of revived) {
      this.sql.exec(
        `INSERT INTO block_revived (cid, outbox_id) VALUES (?, ?)
         ON CONFLICT (cid) DO UPDATE SET outbox_id = excluded.outbox_id`,
        cid,
        outboxId,
      )
    }
    const marked = garbage.previousCommit ? [garbage.previousCommit.toString()] : []
    for (const cid of garbage.removedNodes) marked.push(cid.toString())
    for (const [cid, delta] of garbage.recordRefs) {
      if (delta >= 0) continue
      const row = this.sql
        .exec<{ refs: number | null }>(
          'UPDATE block SET refs = refs + ? WHERE cid = ? RETURNING refs',
          delta,
          cid,
        )
        .toArray()[0]
      if (row?.refs === 0) marked.push(cid)
    }
    if (marked.length === 0) return
    this.sql.exec(
      'INSERT INTO garbage_batch (outbox_id, cids, marked_at) VALUES (?, ?, ?)',
      outboxId,
      marked.join(' '),
      now,
    )
  }

  /**
   * Deletes the blocks of the oldest batches, about `limit` blocks' worth, stopping at the
   * first batch that is not eligible: marked by an entry newer than `outboxFloor` (the oldest
   * outbox entry; null when the outbox is empty) or after `markedBefore`. Call inside a
   * transaction.
   */
  sweepSync(opts: { outboxFloor: number | null; markedBefore: number; limit: number }): SweepBatch {
    const { outboxFloor, markedBefore, limit } = opts
    let deleted = 0
    let seen = 0
    for (;;) {
      const batch = this.sql
        .exec<BatchRow>('SELECT * FROM garbage_batch ORDER BY outbox_id LIMIT 1')
        .toArray()[0]
      if (!batch) return this.dropSpentRevivals({ deleted, stop: 'empty' })
      if (seen >= limit) return this.dropSpentRevivals({ deleted, stop: 'limit' })
      if (outboxFloor !== null && batch.outbox_id > outboxFloor) {
        return this.dropSpentRevivals({ deleted, stop: 'outbox' })
      }
      if (batch.marked_at > markedBefore) {
        return this.dropSpentRevivals({ deleted, stop: 'grace', eligibleAt: batch.marked_at })
      }
      for (const cid of batch.cids.split(' ')) {
        seen++
        if (this.revivedAfter(cid, batch.outbox_id)) continue
        // A record someone points at again is never deleted, whatever the marks say.
        deleted += this.sql
          .exec('DELETE FROM block WHERE cid = ? AND (refs IS NULL OR refs = 0) RETURNING 1', cid)
          .toArray().length
      }
      this.sql.exec('DELETE FROM garbage_batch WHERE outbox_id = ?', batch.outbox_id)
    }
  }

  /** True while `commitCid` waits in a batch: then its whole tree is still stored. */
  isMarkedCommit(commitCid: string): boolean {
    // The previous commit leads its batch. Only for getRepo `since`: a scan is fine.
    return (
      this.sql
        .exec(
          "SELECT 1 FROM garbage_batch WHERE cids = ?1 OR substr(cids, 1, length(?1) + 1) = ?1 || ' '",
          commitCid,
        )
        .toArray().length > 0
    )
  }

  /** Forgets every mark (an import replacing all blocks); call inside its transaction. */
  clearSync(): void {
    this.sql.exec('DELETE FROM garbage_batch')
    this.sql.exec('DELETE FROM block_revived')
  }

  isEmpty(): boolean {
    return this.sql.exec('SELECT 1 FROM garbage_batch LIMIT 1').toArray().length === 0
  }

  /** The stored blocks the sweep will delete when their batches come of age. */
  pendingSync(): Set<string> {
    const pending = new Set<string>()
    for (const batch of this.sql.exec<BatchRow>('SELECT * FROM garbage_batch ORDER BY outbox_id')) {
      for (const cid of batch.cids.split(' ')) {
        if (this.revivedAfter(cid, batch.outbox_id)) pending.delete(cid)
        else pending.add(cid)
      }
    }
    for (const cid of pending) {
      const row = this.sql
        .exec<{ refs: number | null }>('SELECT refs FROM block WHERE cid = ?', cid)
        .toArray()[0]
      if (!row || (row.refs !== null && row.refs > 0)) pending.delete(cid)
    }
    return pending
  }

  /** Blocks stored and not awaiting collection: those of the repo (and older leftovers). */
  liveBlockCount(): number {
    const { n } = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM block').one()
    return n - this.pendingSync().size
  }

  private revivedAfter(cid: string, outboxId: number): boolean {
    const row = this.sql
      .exec<{ outbox_id: number }>('SELECT outbox_id FROM block_revived WHERE cid = ?', cid)
      .toArray()[0]
    return row !== undefined && row.outbox_id > outboxId
  }

  /** A revival only voids older marks: once no older batch is left, it is spent. */
  private dropSpentRevivals(result: SweepBatch): SweepBatch {
    this.sql.exec(
      `DELETE FROM block_revived
       WHERE outbox_id <= coalesce((SELECT min(outbox_id) FROM garbage_batch), outbox_id)`,
    )
    return result
  }
}
