/**
 * The account object's alarm: when to run next, and what it does — deliver what the outbox
 * still holds (retrying with backoff while D1 or the sequencer fails), archive commits to R2
 * (archiver.ts: one object per run, so the alarm waits until enough commits are worth one),
 * and sweep the blocks the head no longer reaches.
 */
import type { SqlStorageLike } from '../storage/sql.ts'
import type { Archiver } from './archiver.ts'
import type { BlockGarbage } from './block-garbage.ts'
import type { OutboxDrainer } from './drain.ts'
import type { ImportIndexer, IndexRun } from './import-index.ts'
import type { ImportStaging } from './import-staging.ts'
import type { Mutex } from './mutex.ts'
import type { Outbox } from './outbox.ts'
import type { RepoCache } from './repo-cache.ts'

/** The alarm set at each commit point, in case the object is reset before delivering. */
export const SAFETY_ALARM_MS = 30_000
/**
 * Delay before archiving to R2, off the answer: a local R2 put takes about 1 ms of the
 * object's thread, which would otherwise slow the next write down (measured: 6.1 ms a write
 * with the put right after the answer, 3.9 ms with it left to the alarm).
 */
export const ARCHIVE_DELAY_MS = 1000
/**
 * Commits worth one R2 object: fewer wait up to ARCHIVE_MAX_WAIT_MS for more, so sequential
 * writes at 2 a second or faster cost at most 50 puts per 1,000 commits (R2 bills each put).
 * The blocks are durable in the object's SQLite meanwhile.
 */
export const SEGMENT_MIN_COMMITS = 32
export const ARCHIVE_MAX_WAIT_MS = 10_000
const MAX_RETRY_MS = 5 * 60_000
/**
 * Unreachable blocks are kept this long after the commit that let go of them, so a relay that
 * just saw the commit can still fetch its blocks (getBlocks, getRecord proofs).
 */
export const GARBAGE_GRACE_MS = 5 * 60_000
/** Blocks deleted per statement, and statements per sweep, so a sweep stays short. */
const SWEEP_BATCH = 500
const SWEEP_BATCHES = 4
/**
 * An export stream not read for this long no longer holds the sweep back (a client that went
 * away without cancelling it); read again, it fails (blocks it needs may be gone).
 */
export const EXPORT_IDLE_MS = 5 * 60_000
/**
 * An import whose CAR has not been finished this long after it began is abandoned (the Worker
 * that streamed it died before `finish` or `abort`): its staged blocks are dropped. A 100,000
 * record CAR streams in under a minute here.
 */
export const IMPORT_ABANDONED_MS = 60 * 60_000

export type AlarmParts = {
  storage: SqlStorageLike
  setAlarm(at: number): void
  cache: RepoCache
  outbox: Outbox
  garbage: BlockGarbage
  drainer: OutboxDrainer
  archiver: Archiver
  /** The D1 index of an imported repo, written in pages (import-index.ts). */
  indexer: ImportIndexer
  /** Blocks of an import in progress, dropped when it is abandoned. */
  staging: ImportStaging
  /** The writer's lock: a sweep must not run while a commit is being built. */
  lock: Mutex
  log(message: string, err: unknown): void
}

export class AccountAlarm {
  private readonly parts: AlarmParts
  private alarmAt: number | null = null
  private failures = 0
  /** Export streams still reading blocks, by id, with when each was last read. */
  private readonly exports = new Map<number, number>()
  private nextExportId = 1
  /** Commits waiting for R2 and since when, kept in step without reading the outbox. */
  private backlog: { commits: number; since: number | null } = { commits: 0, since: null }

  constructor(parts: AlarmParts) {
    this.parts = parts
  }

  /** Run once when the object starts: resumes a delivery a reset interrupted. */
  start(currentAlarm: number | null): void {
    const { outbox, indexer, archiver } = this.parts
    this.alarmAt = currentAlarm
    this.backlog = archiver.backlog()
    if (!outbox.isEmpty() || indexer.pending() || archiver.importPending()) {
      this.schedule(Date.now())
    }
  }

  /** An import replaced the repo: its blocks go to R2 soon. */
  imported(): void {
    this.schedule(Date.now() + ARCHIVE_DELAY_MS)
  }

  /** An import's D1 index did not finish in its call: continued now, or after a failure later. */
  importIndexPending(run: IndexRun): void {
    if (run === 'more') {
      this.schedule(Date.now())
      return
    }
    this.failures++
    this.schedule(Date.now() + retryDelay(this.failures))
  }

  /**
   * At each commit point, in case the object is reset before it delivers; `archived`: the
   * commits it queued for R2.
   */
  committed(archived: number): void {
    if (archived > 0) {
      this.backlog.commits += archived
      this.backlog.since ??= Date.now()
    }
    this.schedule(Date.now() + SAFETY_ALARM_MS)
  }

  /** After a write waited for its delivery: archive when due, or retry with backoff. */
  delivered(ok: boolean): void {
    if (ok) {
      this.failures = 0
      const archiveAt = this.archiveDueAt()
      if (archiveAt !== null) this.schedule(archiveAt)
    } else {
      this.failures++
      this.schedule(Date.now() + retryDelay(this.failures))
    }
  }

  /** An export stream starts reading blocks: no sweep while it reads. Returns its id. */
  exportOpened(): number {
    const id = this.nextExportId++
    this.exports.set(id, Date.now())
    return id
  }

  /**
   * The export was read again; false if it had been idle past EXPORT_IDLE_MS, after which the
   * sweep no longer waits for it (its blocks may be gone).
   */
  exportRead(id: number): boolean {
    const lastRead = this.exports.get(id)
    if (lastRead === undefined || Date.now() - lastRead > EXPORT_IDLE_MS) return false
    this.exports.set(id, Date.now())
    return true
  }

  exportClosed(id: number): void {
    this.exports.delete(id)
    if (!this.exportsReading() && !this.parts.garbage.isEmpty()) {
      this.schedule(Date.now() + ARCHIVE_DELAY_MS)
    }
  }

  /** Whether an export read recently; those idle too long are let go. */
  private exportsReading(): boolean {
    const now = Date.now()
    for (const [id, lastRead] of this.exports) {
      if (now - lastRead > EXPORT_IDLE_MS) this.exports.delete(id)
    }
    return this.exports.size > 0
  }

  /** The repo was deleted and the storage wiped, its alarm with it. */
  reset(): void {
    this.alarmAt = null
    this.backlog = { commits: 0, since: null }
  }

  /** When the commits waiting for R2 make a segment: enough of them, or waited long enough. */
  private archiveDueAt(): number | null {
    const { commits, since } = this.backlog
    if (commits === 0 || since === null) return null
    if (commits >= SEGMENT_MIN_COMMITS) return Date.now() + ARCHIVE_DELAY_MS
    return since + ARCHIVE_MAX_WAIT_MS
  }

  /** The alarm: delivers and archives what is pending, and backs off while that fails. */
  async run(): Promise<void> {
    this.alarmAt = null
    if (!this.parts.cache.state) return
    const { drainer, archiver, outbox } = this.parts
    const delivered = await drainer.deliverAll()
    const archived = delivered && (await archiver.flush())
    this.backlog = archiver.backlog()
    const imported = await this.parts.indexer.run()
    if (imported === 'more') {
      // The next invocation carries on (D1 bounds the queries of one).
      this.schedule(Date.now())
      return
    }
    const nextAt = await this.sweep().then(
      (swept) => swept.nextAt,
      (err) => {
        // Collection can wait for the next alarm; delivery must not.
        this.parts.log('account: block sweep failed', err)
        return null
      },
    )
    const abandonAt = await this.dropAbandonedImport()
    if (delivered && archived && imported === 'done') {
      this.failures = 0
      // What is left: commits made during this run (their writers deliver them), and
      // commits not yet worth a segment.
      const safety = outbox.isEmpty() ? null : Date.now() + SAFETY_ALARM_MS
      for (const at of [nextAt, this.archiveDueAt(), safety, abandonAt]) {
        if (at !== null) this.schedule(at)
      }
      return
    }
    this.failures++
    this.schedule(Date.now() + retryDelay(this.failures))
  }

  /**
   * Deletes unreachable blocks that nothing may read any more, in bounded batches. Returns
   * how many, and when to sweep again (null: nothing left, or the outbox's alarm will).
   * `graceMs` is for tests.
   */
  async sweep(graceMs = GARBAGE_GRACE_MS): Promise<{ deleted: number; nextAt: number | null }> {
    const { storage, cache, garbage, outbox, lock } = this.parts
    // Under the lock: a commit being built may count on a block being stored (a node it
    // brings back), which only its own transaction un-marks.
    return lock.run(async () => {
      let deleted = 0
      if (!cache.state) return { deleted, nextAt: null }
      // An import's blocks are read from here until R2 has them all.
      if (this.parts.archiver.importPending()) {
        return { deleted, nextAt: Date.now() + SAFETY_ALARM_MS }
      }
      // An export reading blocks: look again once it may have gone idle.
      if (this.exportsReading()) return { deleted, nextAt: Date.now() + EXPORT_IDLE_MS }
      const now = Date.now()
      for (let i = 0; i < SWEEP_BATCHES; i++) {
        const batch = storage.transactionSync(() =>
          garbage.sweepSync({
            outboxFloor: outbox.firstId(),
            markedBefore: now - graceMs,
            limit: SWEEP_BATCH,
          }),
        )
        deleted += batch.deleted
        if (batch.stop === 'grace') return { deleted, nextAt: batch.eligibleAt! + graceMs + 1 }
        // An older entry still names blocks: look again once the outbox may have drained
        // (the outbox's own alarm runs meanwhile if it does not).
        if (batch.stop === 'outbox') return { deleted, nextAt: Date.now() + SAFETY_ALARM_MS }
        if (batch.stop !== 'limit') return { deleted, nextAt: null }
      }
      return { deleted, nextAt: Date.now() + ARCHIVE_DELAY_MS }
    })
  }

  /** An import began: its blocks are dropped if it is not finished in time. */
  importBegan(): void {
    this.schedule(Date.now() + IMPORT_ABANDONED_MS)
  }

  /**
   * Drops the staged blocks of an import abandoned past IMPORT_ABANDONED_MS; returns when the
   * import in progress will be, or null if there is none.
   */
  private dropAbandonedImport(): Promise<number | null> {
    const { staging, lock } = this.parts
    // Under the lock: an import's switch-over (which holds it) checks the staged blocks, then
    // moves them; dropped in between, the new head would name blocks that are gone.
    return lock.run(async () => {
      const startedAt = staging.startedAt()
      if (startedAt === null) return null
      const abandonAt = startedAt + IMPORT_ABANDONED_MS
      if (Date.now() < abandonAt) return abandonAt
      staging.discard()
      return null
    })
  }

  private schedule(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    this.parts.setAlarm(at)
  }
}

function retryDelay(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS)
}
