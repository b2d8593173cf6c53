/**
 * The account object's own SQLite tables. The object is the only reader and writer; D1 and
 * R2 hold derived copies, fed from the outbox.
 */
import type { SqlLike } from '../storage/sql.ts'

/**
 * What survives a deleted repo: the last outbox id it used, so that a repo created again for
 * the DID goes on above it whatever the clock says (the sequencer drops ids it has seen).
 */
const OUTBOX_ID_FLOOR_TABLE = `CREATE TABLE IF NOT EXISTS outbox_id_floor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_outbox_id INTEGER NOT NULL
)`

const STATEMENTS = [
  // One row: the repo head and the account's state. The signing key stays in this object.
  `CREATE TABLE IF NOT EXISTS repo_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    did TEXT NOT NULL,
    handle TEXT,
    signing_key TEXT NOT NULL,
    commit_cid TEXT NOT NULL,
    rev TEXT NOT NULL,
    data_cid TEXT NOT NULL,
    active INTEGER NOT NULL,
    status TEXT,
    last_outbox_id INTEGER NOT NULL
  )`,
  // Commits, MST nodes and records. Blocks are immutable and content-addressed. `refs`: for a
  // record, the number of keys pointing at it (0 for other blocks); NULL in rows stored before
  // it was counted, which are never collected (see block-garbage.ts).
  `CREATE TABLE IF NOT EXISTS block (
    cid TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    rev TEXT NOT NULL,
    refs INTEGER
  )`,
  // getRepo `since` finds the commit of an old rev by its blocks.
  'CREATE INDEX IF NOT EXISTS block_rev ON block (rev)',
  // Blocks each commit let go of, one row per commit (see block-garbage.ts), deleted by the
  // sweep once no outbox entry older than that commit remains, after a grace period.
  `CREATE TABLE IF NOT EXISTS garbage_batch (
    outbox_id INTEGER PRIMARY KEY,
    cids TEXT NOT NULL,
    marked_at INTEGER NOT NULL
  )`,
  // Marked blocks a later commit brought back: marks older than outbox_id are void.
  `CREATE TABLE IF NOT EXISTS block_revived (
    cid TEXT PRIMARY KEY,
    outbox_id INTEGER NOT NULL
  )`,
  // Effects decided at a commit point and not yet delivered (see outbox.ts). `group_end`: the
  // last id of the entries committed together, which are delivered together.
  `CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    type TEXT,
    body BLOB,
    car_cids TEXT,
    rev TEXT,
    commit_cid TEXT,
    index_ops BLOB,
    indexed INTEGER NOT NULL,
    sequenced INTEGER NOT NULL,
    archived INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    group_end INTEGER
  )`,
  // The delivery rounds' query: entries waiting for the archive alone are not scanned.
  'CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox (id) WHERE indexed = 0 OR sequenced = 0',
  OUTBOX_ID_FLOOR_TABLE,
  // An import's blocks until the CAR is whole and checked (import-staging.ts). `refs`: NULL
  // until the check finds the block in the tree (0 for nodes, keys pointing at a record).
  `CREATE TABLE IF NOT EXISTS import_block (
    cid TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    refs INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS import_session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    started_at INTEGER NOT NULL
  )`,
  // The D1 index of an imported repo, written page by page (import-index.ts): where it is.
  `CREATE TABLE IF NOT EXISTS import_index (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev TEXT NOT NULL,
    commit_cid TEXT NOT NULL,
    data_cid TEXT NOT NULL,
    after_key TEXT
  )`,
  // The R2 segment being written (archiver.ts): the outbox entries it holds, fixed before
  // its put, so that a retry writes the same object again, never a second one.
  `CREATE TABLE IF NOT EXISTS archive_pending (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL
  )`,
  // An imported repo's blocks still to write to R2 (from `after_rowid` of the block table, as
  // share `part`), then the replaced repo's objects to delete (archiver.ts).
  `CREATE TABLE IF NOT EXISTS archive_import (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev TEXT NOT NULL,
    commit_cid TEXT NOT NULL,
    after_rowid INTEGER NOT NULL,
    part INTEGER NOT NULL
  )`,
  // Each import, as received: the commit it carried and whether its signature matched the
  // DID document's key at the time (1, 0, or NULL when the document could not be read).
  `CREATE TABLE IF NOT EXISTS repo_import (
    rev TEXT PRIMARY KEY,
    imported_commit TEXT NOT NULL,
    imported_rev TEXT NOT NULL,
    signature_valid INTEGER,
    records INTEGER NOT NULL,
    imported_at TEXT NOT NULL
  )`,
  // The per-account write limits' counters (write-limits.ts): one row per limit, reset when a
  // new window starts.
  `CREATE TABLE IF NOT EXISTS write_limit (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
  )`,
]

export function ensureAccountSchema(sql: SqlLike): void {
  for (const statement of STATEMENTS) sql.exec(statement)
  // Objects created before block GC: existing rows get NULL (unknown) and are never collected.
  const columns = sql.exec<{ name: string }>('PRAGMA table_info(block)').toArray()
  if (!columns.some((column) => column.name === 'refs')) {
    sql.exec('ALTER TABLE block ADD COLUMN refs INTEGER')
  }
  // Objects created before entries were grouped: each older entry is a group of its own.
  const outboxColumns = sql.exec<{ name: string }>('PRAGMA table_info(outbox)').toArray()
  if (!outboxColumns.some((column) => column.name === 'group_end')) {
    sql.exec('ALTER TABLE outbox ADD COLUMN group_end INTEGER')
  }
}

/** After the object's storage was wiped: keeps the deleted repo's last outbox id. */
export function keepOutboxIdFloor(sql: SqlLike, lastOutboxId: number): void {
  sql.exec(OUTBOX_ID_FLOOR_TABLE)
  sql.exec(
    `INSERT INTO outbox_id_floor (id, last_outbox_id) VALUES (1, ?)
     ON CONFLICT (id) DO UPDATE SET last_outbox_id = max(last_outbox_id, excluded.last_outbox_id)`,
    lastOutboxId,
  )
}

/** The first outbox id of a new repo: above any this object used before, and from the clock. */
export function firstOutboxIdFloor(sql: SqlLike): number {
  const kept = sql
    .exec<{ id: number }>('SELECT last_outbox_id AS id FROM outbox_id_floor')
    .toArray()[0]?.id
  return Math.max(Date.now() * 1000, kept ?? 0)
}
