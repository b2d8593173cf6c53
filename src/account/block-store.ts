/**
 * The account's blocks in its SQLite storage, read by the MST through the BlockReader
 * interface. Reads are counted so tests can check a write stays O(log n).
 */
import { CID } from '../data/cid.ts'
import type { BlockReader } from '../repo/block-store.ts'
import { blobBytes, type SqlLike } from '../storage/sql.ts'

export class SqlBlockStore implements BlockReader {
  private readonly sql: SqlLike
  /** Number of `get`/`getMany` blocks asked for since creation (or the last reset). */
  reads = 0

  constructor(sql: SqlLike) {
    this.sql = sql
  }

  async get(cid: CID): Promise<Uint8Array | null> {
    this.reads++
    return this.getSync(cid.toString())
  }

  async getMany(cids: CID[]): Promise<(Uint8Array | null)[]> {
    this.reads += cids.length
    return cids.map((cid) => this.getSync(cid.toString()))
  }

  async has(cid: CID): Promise<boolean> {
    return this.hasSync(cid.toString())
  }

  getSync(cid: string): Uint8Array | null {
    const row = this.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM block WHERE cid = ?', cid)
      .toArray()[0]
    return row ? blobBytes(row.bytes) : null
  }

  hasSync(cid: string): boolean {
    return this.sql.exec('SELECT 1 FROM block WHERE cid = ?', cid).toArray().length > 0
  }

  /**
   * Stores blocks; call inside the commit transaction. Existing blocks are left as they are.
   * `refs` is what new rows start with: 0 only where the caller's transaction counts the record
   * references (a commit's BlockGarbage does); the default, NULL, is never collected, the safe
   * answer for any other way blocks come in.
   */
  putSync(
    blocks: Iterable<{ cid: CID; bytes: Uint8Array }>,
    rev: string,
    refs: 0 | null = null,
  ): void {
    for (const { cid, bytes } of blocks) {
      this.sql.exec(
        'INSERT OR IGNORE INTO block (cid, bytes, rev, refs) VALUES (?, ?, ?, ?)',
        cid.toString(),
        bytes,
        rev,
        refs,
      )
    }
  }

  /** Drops every block (an import replacing the repo); call inside its transaction. */
  clearSync(): void {
    this.sql.exec('DELETE FROM block')
  }

  /** Reads blocks that must be there (those an outbox entry names). */
  requireSync(cids: string[]): { cid: CID; bytes: Uint8Array }[] {
    return cids.map((cid) => {
      const bytes = this.getSync(cid)
      if (!bytes) throw new Error(`block ${cid} is missing from the account store`)
      return { cid: CID.parse(cid), bytes }
    })
  }
}
