/**
 * The D1 record index (`record`, `repo_root`), kept in step with each repo from its outbox.
 *
 * Delivery is at least once, so every statement is idempotent and guarded by `rev`: replaying
 * an old commit never moves the index backwards.
 */

export type IndexUpsert = { collection: string; rkey: string; cid: string; value: string }

export type IndexDelete = { collection: string; rkey: string }

/** One commit's changes to the index; `value` is the record as atproto JSON text. */
export type IndexCommit = {
  rev: string
  commitCid: string
  upserts: IndexUpsert[]
  deletes: IndexDelete[]
}

export interface RecordIndexSink {
  /** Applies the commits, in order, in one batch. */
  applyCommits(did: string, commits: IndexCommit[]): Promise<void>
  /** Drops every row of the repo (account deletion). */
  deleteRepo(did: string): Promise<void>
}

export interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike
}

export interface D1Like {
  prepare(query: string): D1StatementLike
  batch(statements: D1StatementLike[]): Promise<unknown>
}

const UPSERT_RECORD = `INSERT INTO record (did, collection, rkey, cid, value, rev, indexed_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (did, collection, rkey) DO UPDATE SET
    cid = excluded.cid, value = excluded.value, rev = excluded.rev, indexed_at = excluded.indexed_at
  WHERE excluded.rev > record.rev`

const DELETE_RECORD = 'DELETE FROM record WHERE did = ? AND collection = ? AND rkey = ? AND rev < ?'

const UPSERT_ROOT = `INSERT INTO repo_root (did, cid, rev, indexed_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (did) DO UPDATE SET
    cid = excluded.cid, rev = excluded.rev, indexed_at = excluded.indexed_at
  WHERE excluded.rev > repo_root.rev`

export function createD1RecordIndex(db: D1Like): RecordIndexSink {
  return {
    async applyCommits(did, commits) {
      const statements = indexStatements(db, did, commits, new Date().toISOString())
      if (statements.length > 0) await db.batch(statements)
    },
    async deleteRepo(did) {
      await db.batch([
        db.prepare('DELETE FROM record WHERE did = ?').bind(did),
        db.prepare('DELETE FROM repo_root WHERE did = ?').bind(did),
      ])
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
    for (const { collection, rkey, cid, value } of commit.upserts) {
      out.push(db.prepare(UPSERT_RECORD).bind(did, collection, rkey, cid, value, commit.rev, now))
    }
    out.push(db.prepare(UPSERT_ROOT).bind(did, commit.commitCid, commit.rev, now))
  }
  return out
}
