/**
 * Where an imported repo's blocks wait (com.atproto.repo.importRepo) until the whole CAR has
 * arrived and been checked: the `import_block` table of the account's SQLite, filled in
 * batches over several calls, read back through the BlockReader interface by the check. The
 * repo itself (the `block` table and the head) is not touched until the switch-over.
 *
 * One import at a time: `begin` hands out a token and drops whatever an earlier, unfinished
 * import left; batches and the finish must carry the current token.
 */
import type { CID } from '../data/cid.ts'
import type { BlockReader } from '../repo/block-store.ts'
import { blobBytes, type SqlLike } from '../storage/sql.ts'
import { RepoWriteError } from './errors.ts'
import type { StoredBlock } from './types.ts'

export class ImportStaging {
  private readonly sql: SqlLike

  constructor(sql: SqlLike) {
    this.sql = sql
  }

  /** Starts an import, dropping an earlier unfinished one; returns its token. */
  begin(): string {
    const token = crypto.randomUUID()
    this.discard()
    this.sql.exec(
      'INSERT INTO import_session (id, token, started_at) VALUES (1, ?, ?)',
      token,
      Date.now(),
    )
    return token
  }

  /** Stores a batch of blocks (already checked against their CIDs by the CAR reader). */
  stage(token: string, blocks: StoredBlock[]): void {
    this.requireToken(token)
    for (const { cid, bytes } of blocks) {
      this.sql.exec(
        'INSERT OR IGNORE INTO import_block (cid, bytes, refs) VALUES (?, ?, NULL)',
        cid,
        bytes,
      )
    }
  }

  /** Drops a failed import's blocks, unless another import has started since. */
  abort(token: string): void {
    const row = this.sql
      .exec<{ token: string }>('SELECT token FROM import_session WHERE id = 1')
      .toArray()[0]
    if (row?.token === token) this.discard()
  }

  requireToken(token: string): void {
    const row = this.sql
      .exec<{ token: string }>('SELECT token FROM import_session WHERE id = 1')
      .toArray()[0]
    if (row?.token !== token) {
      throw new RepoWriteError('InvalidRequest', 'This import was superseded by another one')
    }
  }

  /** Reads staged blocks, for the check. */
  reader(): BlockReader {
    const get = (cid: CID) => this.getSync(cid.toString())
    return {
      get: async (cid) => get(cid),
      getMany: async (cids) => cids.map(get),
    }
  }

  getSync(cid: string): Uint8Array | null {
    const row = this.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM import_block WHERE cid = ?', cid)
      .toArray()[0]
    return row ? blobBytes(row.bytes) : null
  }

  /** An MST node the checked tree holds: kept at the switch-over (with no references). */
  keepNode(cid: CID): void {
    this.sql.exec('UPDATE import_block SET refs = 0 WHERE cid = ?', cid.toString())
  }

  /** A key of the checked tree points at this record: kept, with one more reference. */
  keepRecord(cid: CID): void {
    this.sql.exec(
      'UPDATE import_block SET refs = coalesce(refs, 0) + 1 WHERE cid = ?',
      cid.toString(),
    )
  }

  /**
   * Inside the switch-over transaction: the kept blocks become the repo's, at `rev`; the rest
   * (older commits, blocks the tree does not reach) is dropped with the staging.
   */
  moveKeptSync(rev: string): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO block (cid, bytes, rev, refs)
       SELECT cid, bytes, ?, refs FROM import_block WHERE refs IS NOT NULL`,
      rev,
    )
    this.discard()
  }

  discard(): void {
    this.sql.exec('DELETE FROM import_block')
    this.sql.exec('DELETE FROM import_session')
  }

  /** When the current import started, or null: an abandoned one is dropped after a while. */
  startedAt(): number | null {
    const row = this.sql
      .exec<{ started_at: number }>('SELECT started_at FROM import_session WHERE id = 1')
      .toArray()[0]
    return row?.started_at ?? null
  }
}
