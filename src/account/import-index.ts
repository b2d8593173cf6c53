/**
 * The D1 index of an imported repo. An import replaces the whole tree at once, far more than
 * one outbox entry (and one D1 batch) can carry, so its index is written page by page: every
 * record of the new tree at the import's rev (upserts guarded by rev, blob references with
 * them), then the records left below that rev are pruned (the keys the new repo lacks) and
 * `repo_root` set. Where it stands is kept in the `import_index` row, written in the
 * switch-over transaction, so a reset resumes it (the alarm) and a newer import restarts it.
 */
import { CID } from '../data/cid.ts'
import { Mst } from '../repo/mst/index.ts'
import type { SqlLike } from '../storage/sql.ts'
import type { SqlBlockStore } from './block-store.ts'
import type { Mutex } from './mutex.ts'
import { indexUpsertOf } from './outbox-deliveries.ts'
import type { IndexUpsert } from './record-index.ts'
import type { AccountSinks } from './sinks.ts'

/** Records per D1 batch (two statements each at most), and their JSON bytes. */
const PAGE_RECORDS = 200
const PAGE_BYTES = 1024 * 1024
/**
 * D1 statements one invocation of the object sends at most: D1 bounds the queries of one
 * Worker invocation (1,000 on the paid plan), so a large repo is indexed over several
 * invocations, the alarm carrying on where the import's own call stopped.
 */
const STATEMENTS_PER_RUN = 800

/** What a run got to: the end, a pause for the next invocation, or a D1 failure. */
export type IndexRun = 'done' | 'more' | 'failed'

export type ImportIndexJob = {
  rev: string
  commitCid: string
  dataCid: string
  afterKey: string | null
}

type JobRow = { rev: string; commit_cid: string; data_cid: string; after_key: string | null }

export class ImportIndexer {
  private readonly sql: SqlLike
  private readonly blocks: SqlBlockStore
  private readonly did: () => string
  private readonly headData: () => string | null
  private readonly lock: Mutex
  private readonly sinks: () => AccountSinks
  private readonly log: (message: string, err: unknown) => void
  private running: Promise<IndexRun> | null = null
  private waiters: ((done: boolean) => void)[] = []

  constructor(parts: {
    sql: SqlLike
    blocks: SqlBlockStore
    did: () => string
    headData: () => string | null
    lock: Mutex
    sinks: () => AccountSinks
    log: (message: string, err: unknown) => void
  }) {
    this.sql = parts.sql
    this.blocks = parts.blocks
    this.did = parts.did
    this.headData = parts.headData
    this.lock = parts.lock
    this.sinks = parts.sinks
    this.log = parts.log
  }

  /** Inside the switch-over transaction: (re)starts the index of the new tree. */
  startSync(job: Omit<ImportIndexJob, 'afterKey'>): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO import_index (id, rev, commit_cid, data_cid, after_key)
       VALUES (1, ?, ?, ?, NULL)`,
      job.rev,
      job.commitCid,
      job.dataCid,
    )
  }

  pending(): boolean {
    return this.job() !== null
  }

  /** Runs the job for one invocation's worth of D1 statements, or to its end. */
  run(): Promise<IndexRun> {
    this.running ??= this.runSlice().finally(() => {
      this.running = null
    })
    return this.running
  }

  /** Resolves when the job ends (true) or a run fails (false). */
  settled(): Promise<boolean> {
    if (!this.pending()) return Promise.resolve(true)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private async runSlice(): Promise<IndexRun> {
    let statements = 0
    let outcome: IndexRun
    try {
      for (;;) {
        const job = this.job()
        if (!job) {
          outcome = 'done'
          break
        }
        if (statements >= STATEMENTS_PER_RUN) return 'more'
        statements += await this.lock.run(() => this.step(job))
      }
    } catch (err) {
      this.log('account import: D1 index update failed', err)
      outcome = 'failed'
    }
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve(outcome === 'done')
    return outcome
  }

  /**
   * One page, or the end; a newer import that replaced the job meanwhile is left alone.
   * Returns the D1 statements sent.
   *
   * The page is read from the tree at the current head, not the imported one, and sent under
   * the writers' lock: once the account is active, commits may land while the index is still
   * being written (a failed run resumed by the alarm), and a record one of them deleted must
   * not come back at the import's rev (nothing in D1 remembers the delete). Records they
   * changed are written at the import's rev, which their own, newer rows win over.
   */
  private async step(job: ImportIndexJob): Promise<number> {
    const did = this.did()
    const sinks = this.sinks()
    const tree = Mst.load(this.blocks, CID.parse(this.headData() ?? job.dataCid))
    const upserts: IndexUpsert[] = []
    let bytes = 0
    for await (const { key, value } of tree.entries({ after: job.afterKey ?? undefined })) {
      const slash = key.indexOf('/')
      const cid = value.toString()
      const record = this.blocks.requireSync([cid])[0]!.bytes
      const upsert = indexUpsertOf(key.slice(0, slash), key.slice(slash + 1), cid, record)
      upserts.push(upsert)
      bytes += upsert.value?.length ?? 0
      if (upserts.length >= PAGE_RECORDS || bytes >= PAGE_BYTES) break
    }
    if (upserts.length > 0) {
      await sinks.index.applyCommits(did, [
        { rev: job.rev, commitCid: job.commitCid, upserts, deletes: [] },
      ])
      const last = upserts[upserts.length - 1]!
      this.advance(job, `${last.collection}/${last.rkey}`)
      return upserts.length + upserts.filter((upsert) => upsert.blobs.length > 0).length + 1
    }
    await sinks.index.pruneBefore(did, job.rev)
    // repo_root, for an empty repo too.
    await sinks.index.applyCommits(did, [
      { rev: job.rev, commitCid: job.commitCid, upserts: [], deletes: [] },
    ])
    this.sql.exec('DELETE FROM import_index WHERE id = 1 AND rev = ?', job.rev)
    return 2
  }

  private advance(job: ImportIndexJob, afterKey: string): void {
    this.sql.exec(
      'UPDATE import_index SET after_key = ? WHERE id = 1 AND rev = ?',
      afterKey,
      job.rev,
    )
  }

  private job(): ImportIndexJob | null {
    const row = this.sql.exec<JobRow>('SELECT * FROM import_index WHERE id = 1').toArray()[0]
    if (!row) return null
    return {
      rev: row.rev,
      commitCid: row.commit_cid,
      dataCid: row.data_cid,
      afterKey: row.after_key,
    }
  }
}
