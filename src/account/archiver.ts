/**
 * Writes the account's R2 archive (archive.ts): the commits waiting in the outbox leave for R2
 * as segments (archive-segment.ts), one object per flush, bounded in commits and bytes; an
 * imported repo's blocks leave in shares of one object each, after which the objects of the
 * repo it replaced are deleted. Flushes are serialized (concurrent calls coalesce) and run
 * from the alarm, never on a write's path.
 *
 * Crash safety: the entries of a segment are fixed in `archive_pending` before its put and
 * marked archived only after it succeeded, in one transaction; a retry writes the same entries
 * to the same key, so a commit is never lost from the archive nor held by two objects. An
 * import's progress (`archive_import`) moves only after each share's put, likewise.
 */
import { CID } from '../data/cid.ts'
import { blobBytes, type SqlStorageLike } from '../storage/sql.ts'
import { segmentKey } from './archive.ts'
import { blockSections, carSections, encodeSegment, type SegmentSlice } from './archive-segment.ts'
import type { Outbox, OutboxRow } from './outbox.ts'
import type { AccountSinks } from './sinks.ts'

/** Bounds of one segment: its index stays under 40 KB, and its put one modest request. */
const SEGMENT_MAX_COMMITS = 512
const SEGMENT_MAX_BYTES = 8 * 1024 * 1024
/** Segments per flush; a larger backlog (after an R2 outage) goes on in the next alarm. */
const SEGMENTS_PER_FLUSH = 8
/** An imported repo's blocks per object, and per SQLite read. */
const IMPORT_SHARE_BYTES = 8 * 1024 * 1024
const IMPORT_ROWS_PER_READ = 256

export type ArchiverParts = {
  storage: SqlStorageLike
  outbox: Outbox
  did: () => string
  sinks: () => AccountSinks
  log(message: string, err: unknown): void
}

type PendingRow = { key: string; first_id: number; last_id: number }
type ImportJob = { rev: string; commit_cid: string; after_rowid: number; part: number }

export class Archiver {
  private readonly parts: ArchiverParts
  private running: Promise<boolean> | null = null
  private again = false

  constructor(parts: ArchiverParts) {
    this.parts = parts
  }

  /** Writes what waits for R2 (an import's blocks first); false if a put failed. */
  flush(): Promise<boolean> {
    if (this.running) {
      this.again = true
      return this.running
    }
    const run = async (): Promise<boolean> => {
      let ok = true
      do {
        this.again = false
        ok = (await this.flushOnce()) && ok
      } while (this.again)
      return ok
    }
    this.running = run().finally(() => {
      this.running = null
    })
    return this.running
  }

  /** Resolves when no flush is in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /** How many commits wait for R2, and since when (epoch ms). */
  backlog(): { commits: number; since: number | null } {
    return this.parts.outbox.archiveBacklog()
  }

  /** An import's blocks are not all in R2 yet: none of them may be collected meanwhile. */
  importPending(): boolean {
    return this.importJob() !== null
  }

  /** Gives up on what was not archived yet (the repo is being deleted or replaced). */
  abandonSync(): void {
    const { outbox, storage } = this.parts
    outbox.skipArchives()
    storage.sql.exec('DELETE FROM archive_pending')
    storage.sql.exec('DELETE FROM archive_import')
  }

  /**
   * Call inside an import's switch-over transaction, with its blocks stored at `rev`: they are
   * archived from now on, and then the objects of the replaced repo deleted.
   */
  importedSync(rev: string, commitCid: string): void {
    this.abandonSync()
    this.parts.storage.sql.exec(
      `INSERT INTO archive_import (id, rev, commit_cid, after_rowid, part) VALUES (1, ?, ?, 0, 0)`,
      rev,
      commitCid,
    )
  }

  private async flushOnce(): Promise<boolean> {
    try {
      await this.archiveImport()
      for (let i = 0; i < SEGMENTS_PER_FLUSH; i++) {
        if (!(await this.writeSegment())) break
      }
      return true
    } catch (err) {
      this.parts.log('account outbox: R2 archive failed', err)
      return false
    }
  }

  /** Writes one segment of the outbox; false when nothing waits. */
  private async writeSegment(): Promise<boolean> {
    const { storage, outbox, sinks } = this.parts
    const did = this.parts.did()
    const planned = (await this.pendingSegment(did)) ?? (await this.planSegment(did))
    if (!planned) return false
    const { bytes } = await encodeSegment(did, planned.slices)
    await sinks().archive.putSegment(planned.key, bytes)
    storage.transactionSync(() => {
      outbox.markArchived(planned.ids)
      storage.sql.exec('DELETE FROM archive_pending WHERE key = ?', planned.key)
    })
    return true
  }

  /** The segment an earlier flush fixed and did not see written: the same entries again. */
  private async pendingSegment(did: string): Promise<PlannedSegment | null> {
    const { storage, outbox } = this.parts
    const pending = storage.sql
      .exec<PendingRow>('SELECT key, first_id, last_id FROM archive_pending')
      .toArray()[0]
    if (!pending) return null
    const rows = outbox.pendingArchive(0, [pending.first_id, pending.last_id])
    if (rows.length === 0) {
      storage.sql.exec('DELETE FROM archive_pending WHERE key = ?', pending.key)
      return null
    }
    const segment = await this.slicesOf(did, rows, rows.length)
    return { ...segment, key: pending.key }
  }

  /** The next entries waiting, within the segment's bounds, fixed before they are put. */
  private async planSegment(did: string): Promise<PlannedSegment | null> {
    const { storage, outbox } = this.parts
    const rows = outbox.pendingArchive(SEGMENT_MAX_COMMITS)
    if (rows.length === 0) return null
    const { slices, ids } = await this.slicesOf(did, rows, SEGMENT_MAX_COMMITS, SEGMENT_MAX_BYTES)
    const key = segmentKey(did, slices[0]!.rev, slices.at(-1)!.rev)
    storage.sql.exec(
      'INSERT OR REPLACE INTO archive_pending (id, key, first_id, last_id) VALUES (1, ?, ?, ?)',
      key,
      ids[0]!,
      ids.at(-1)!,
    )
    return { key, slices, ids }
  }

  private async slicesOf(
    did: string,
    rows: OutboxRow[],
    maxCommits: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<Omit<PlannedSegment, 'key'>> {
    const slices: SegmentSlice[] = []
    const ids: number[] = []
    let bytes = 0
    for (const row of rows) {
      if (slices.length >= maxCommits || bytes >= maxBytes) break
      if (!row.rev || !row.commit_cid)
        throw new Error(`outbox entry ${row.id} of ${did}: no commit`)
      const sections = carSections(await this.parts.outbox.carOf(row))
      slices.push({ rev: row.rev, cid: CID.parse(row.commit_cid), sections })
      ids.push(row.id)
      bytes += sections.length
    }
    return { slices, ids }
  }

  /** An import's blocks, share after share, then the replaced repo's objects deleted. */
  private async archiveImport(): Promise<void> {
    const { storage, sinks } = this.parts
    for (let job = this.importJob(); job; job = this.importJob()) {
      const did = this.parts.did()
      const share = this.importShare(job)
      if (share.blocks.length === 0) {
        await sinks().archive.deleteBefore(did, job.rev)
        storage.sql.exec('DELETE FROM archive_import WHERE rev = ?', job.rev)
        continue
      }
      const slice = {
        rev: job.rev,
        cid: CID.parse(job.commit_cid),
        sections: blockSections(share.blocks),
      }
      const { bytes } = await encodeSegment(did, [slice], job.part)
      await sinks().archive.putSegment(segmentKey(did, job.rev, job.rev, job.part), bytes)
      // A later import may have replaced this one meanwhile: then this changes nothing.
      storage.sql.exec(
        'UPDATE archive_import SET after_rowid = ?, part = part + 1 WHERE rev = ?',
        share.lastRowid,
        job.rev,
      )
    }
  }

  private importJob(): ImportJob | null {
    return (
      this.parts.storage.sql
        .exec<ImportJob>('SELECT rev, commit_cid, after_rowid, part FROM archive_import')
        .toArray()[0] ?? null
    )
  }

  /** The import's next blocks, in storage order, about IMPORT_SHARE_BYTES of them. */
  private importShare(job: ImportJob): {
    blocks: { cid: CID; bytes: Uint8Array }[]
    lastRowid: number
  } {
    const blocks: { cid: CID; bytes: Uint8Array }[] = []
    let lastRowid = job.after_rowid
    let bytes = 0
    while (bytes < IMPORT_SHARE_BYTES) {
      const rows = this.parts.storage.sql
        .exec<{ rowid: number; cid: string; bytes: ArrayBuffer }>(
          `SELECT rowid, cid, bytes FROM block WHERE rev = ? AND rowid > ?
           ORDER BY rowid LIMIT ?`,
          job.rev,
          lastRowid,
          IMPORT_ROWS_PER_READ,
        )
        .toArray()
      for (const row of rows) {
        const block = blobBytes(row.bytes)
        blocks.push({ cid: CID.parse(row.cid), bytes: block })
        bytes += block.length
        lastRowid = row.rowid
        if (bytes >= IMPORT_SHARE_BYTES) break
      }
      if (rows.length < IMPORT_ROWS_PER_READ) break
    }
    return { blocks, lastRowid }
  }
}

type PlannedSegment = { key: string; slices: SegmentSlice[]; ids: number[] }
