/**
 * The D1 record index (`record`, `repo_root`), kept in step with each repo from its outbox.
 *
 * Delivery is at least once, so every statement is idempotent and guarded by `rev`: replaying
 * an old commit never moves the index backwards.
 *
 * The blobs a record references go to `record_blob` in the same batch, written just before
 * the record row at the record's rev; triggers on `record` then drop the references of older
 * versions (or of a deleted record), and those on `record_blob` make referenced blobs
 * permanent and delete blobs left without references (migrations/0003_blob_triggers.sql).
 */
export type IndexUpsert = {
  collection: string
  rkey: string
  cid: string
  /**
   * The record as atproto JSON text; null when it is not held in the index (too large for a
   * D1 value, MAX_RECORD_JSON_BYTES), stored as VALUE_NOT_INDEXED: readers then take the
   * record from the account object's blocks.
   */
  value: string | null
  /** CIDs of the blobs the record references. */
  blobs: string[]
}

/** The stored value of a record whose JSON the index does not hold (never valid JSON). */
export const VALUE_NOT_INDEXED = ''

export type IndexDelete = { collection: string; rkey: string }

/** One commit's changes to the index. */
export type IndexCommit = {
  rev: string
  commitCid: string
  upserts: IndexUpsert[]
  deletes: IndexDelete[]
}

/** The commit with its records' values left to the account object (a commit D1 refuses). */
export function withoutValues(commit: IndexCommit): IndexCommit {
  return { ...commit, upserts: commit.upserts.map((upsert) => ({ ...upsert, value: null })) }
}

export interface RecordIndexSink {
  /**
   * Applies the commits, in order, in one batch. Resolves to the D1 bookmark just after it
   * (null when D1 gave none): a reader whose session starts there sees the commits.
   */
  applyCommits(did: string, commits: IndexCommit[]): Promise<string | null>
  /** Drops every row of the repo (account deletion). */
  deleteRepo(did: string): Promise<void>
  /**
   * Drops the repo's records older than `rev`: after an import indexed every record of the
   * new tree at `rev`, what is left below it is not in the repo any more.
   */
  pruneBefore(did: string, rev: string): Promise<void>
}

export interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike
}

export interface D1Like {
  prepare(query: string): D1StatementLike
  batch(statements: D1StatementLike[]): Promise<unknown>
}

/** A D1 database that opens sessions (D1's Sessions API), as `D1Database` does. */
export interface D1WithSessions extends D1Like {
  withSession(constraint: 'first-primary'): D1Like & { getBookmark(): string | null }
}

const UPSERT_RECORD = `INSERT INTO record (did, collection, rkey, cid, value, rev, indexed_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (did, collection, rkey) DO UPDATE SET
    cid = excluded.cid, value = excluded.value, rev = excluded.rev, indexed_at = excluded.indexed_at
  WHERE excluded.rev > record.rev`

const DELETE_RECORD = 'DELETE FROM record WHERE did = ? AND collection = ? AND rkey = ? AND rev < ?'

/** Skipped when a later version of the record is already indexed (a replayed commit). */
const UPSERT_RECORD_BLOBS = `INSERT INTO record_blob (did, collection, rkey, blob_cid, rev)
  SELECT ?1, ?2, ?3, j.value, ?4 FROM json_each(?5) AS j
  WHERE NOT EXISTS (
    SELECT 1 FROM record WHERE did = ?1 AND collection = ?2 AND rkey = ?3 AND rev > ?4
  )
  ON CONFLICT (did, collection, rkey, blob_cid) DO UPDATE SET rev = excluded.rev
  WHERE excluded.rev > record_blob.rev`

const UPSERT_ROOT = `INSERT INTO repo_root (did, cid, rev, indexed_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (did) DO UPDATE SET
    cid = excluded.cid, rev = excluded.rev, indexed_at = excluded.indexed_at
  WHERE excluded.rev > repo_root.rev`

export function createD1RecordIndex(db: D1WithSessions): RecordIndexSink {
  return {
    async applyCommits(did, commits) {
      // A session of its own, for the bookmark the writer's client is given back.
      const session = db.withSession('first-primary')
      const statements = indexStatements(session, did, commits, new Date().toISOString())
      if (statements.length === 0) return null
      await session.batch(statements)
      return session.getBookmark()
    },
    async deleteRepo(did) {
      await db.batch([
        db.prepare('DELETE FROM record WHERE did = ?').bind(did),
        db.prepare('DELETE FROM repo_root WHERE did = ?').bind(did),
      ])
    },
    async pruneBefore(did, rev) {
      // The record_blob triggers drop the pruned records' blob references with them.
      await db.batch([db.prepare('DELETE FROM record WHERE did = ? AND rev < ?').bind(did, rev)])
    },
  }
}

export function indexStatements(
  db: D1Like,
  did: string,
  commits: IndexCommit[],
  now: string,
): D1StatementLike[] {
  const out: D1StatementLike[] = []
  for (const commit of commits) {
    for (const { collection, rkey } of commit.deletes) {
      out.push(db.prepare(DELETE_RECORD).bind(did, collection, rkey, commit.rev))
    }
    for (const { collection, rkey, cid, value, blobs } of commit.upserts) {
      if (blobs.length > 0) {
        out.push(
          db
            .prepare(UPSERT_RECORD_BLOBS)
            .bind(did, collection, rkey, commit.rev, JSON.stringify(blobs)),
        )
      }
      const stored = value ?? VALUE_NOT_INDEXED
      out.push(db.prepare(UPSERT_RECORD).bind(did, collection, rkey, cid, stored, commit.rev, now))
    }
    out.push(db.prepare(UPSERT_ROOT).bind(did, commit.commitCid, commit.rev, now))
  }
  return out
}
