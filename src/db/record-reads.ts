/**
 * Reads of the D1 record index that serve getRecord, listRecords and describeRepo. Records
 * moderation took down (`takedown_ref`) are left out, as if absent.
 */
import { and, asc, eq } from 'drizzle-orm'
import type { Db } from './index.ts'
import { type AccountStatus, record } from './schema.ts'

export interface IndexedRecord {
  rkey: string
  cid: string
  /** The record in atproto JSON form, as text. */
  value: string
}

export async function getIndexedRecord(
  db: Db,
  did: string,
  collection: string,
  rkey: string,
): Promise<IndexedRecord | null> {
  const row = await db
    .select({ rkey: record.rkey, cid: record.cid, value: record.value })
    .from(record)
    .where(and(eq(record.did, did), eq(record.collection, collection), eq(record.rkey, rkey)))
    .get()
  return row ?? null
}

/** The account of a repo named by DID or handle, and one page of a collection of it. */
export interface RecordPageLookup {
  did: string
  status: AccountStatus
  records: IndexedRecord[]
}

/**
 * listRecords' read in one D1 round trip: the account (for its status) left-joined with one
 * page of a collection in record-key order, descending (newest TIDs first) by default,
 * ascending with `reverse`. `cursor` is the last record key of the previous page. The record
 * primary key (did, collection, rkey) gives the order, so no more than `limit` rows are read.
 */
export async function lookupRecordPage(
  d1: D1Database,
  opts: { repo: string; collection: string; limit: number; cursor?: string; reverse: boolean },
): Promise<RecordPageLookup | null> {
  const by = repoColumn(opts.repo)
  const after =
    opts.cursor === undefined ? '' : opts.reverse ? 'AND r.rkey > ?3' : 'AND r.rkey < ?3'
  const rows = await d1
    .prepare(
      `SELECT a.did, a.status, r.rkey, r.cid, r.value
       FROM account a LEFT JOIN record r
         ON r.did = a.did AND r.collection = ?2 AND r.takedown_ref IS NULL ${after}
       WHERE ${by.column} = ?1
       ORDER BY r.rkey ${opts.reverse ? 'ASC' : 'DESC'} LIMIT ?4`,
    )
    .bind(by.value, opts.collection, opts.cursor ?? null, opts.limit)
    .raw<
      [
        did: string,
        status: AccountStatus,
        rkey: string | null,
        cid: string | null,
        value: string | null,
      ]
    >()
  const first = rows[0]
  if (!first) return null
  const records: IndexedRecord[] = []
  for (const [, , rkey, cid, value] of rows) {
    if (rkey !== null && cid !== null && value !== null) records.push({ rkey, cid, value })
  }
  return { did: first[0], status: first[1], records }
}

export async function listCollections(db: Db, did: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ collection: record.collection })
    .from(record)
    .where(eq(record.did, did))
    .orderBy(asc(record.collection))
    .all()
  return rows.map((row) => row.collection)
}

export interface RecordLookup {
  did: string
  status: AccountStatus
  /** null when the account exists but the record does not. */
  record: IndexedRecord | null
}

/**
 * getRecord's hot path in one D1 round trip: the account (by DID or handle, for its status)
 * joined with the record. Plain SQL rather than the query builder: this runs on every read.
 */
export async function lookupRecord(
  d1: D1Database,
  repo: string,
  collection: string,
  rkey: string,
): Promise<RecordLookup | null> {
  const by = repoColumn(repo)
  // `raw()` rows are arrays: measured here a little cheaper than `first()`'s named columns.
  const [row] = await d1
    .prepare(
      `SELECT a.did AS did, a.status AS status, r.cid AS cid, r.value AS value
       FROM account a LEFT JOIN record r
         ON r.did = a.did AND r.collection = ?2 AND r.rkey = ?3 AND r.takedown_ref IS NULL
       WHERE ${by.column} = ?1`,
    )
    .bind(by.value, collection, rkey)
    .raw<[did: string, status: AccountStatus, cid: string | null, value: string | null]>()
  if (!row) return null
  const [did, status, cid, value] = row
  return { did, status, record: cid !== null && value !== null ? { rkey, cid, value } : null }
}

/** Which `account a` column names a repo given as a DID or a handle (handles are lower case). */
function repoColumn(repo: string): { column: 'a.did' | 'a.handle'; value: string } {
  return repo.startsWith('did:')
    ? { column: 'a.did', value: repo }
    : { column: 'a.handle', value: repo.toLowerCase() }
}
