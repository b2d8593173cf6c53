/** Reads of the D1 record index that serve getRecord, listRecords and describeRepo. */
import { and, asc, desc, eq, gt, lt } from 'drizzle-orm'
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

/**
 * One page of a collection in record-key order: descending (newest TIDs first) by default,
 * ascending with `reverse`. `cursor` is the last record key of the previous page.
 */
export async function listIndexedRecords(
  db: Db,
  opts: { did: string; collection: string; limit: number; cursor?: string; reverse: boolean },
): Promise<IndexedRecord[]> {
  const conditions = [eq(record.did, opts.did), eq(record.collection, opts.collection)]
  if (opts.cursor !== undefined) {
    conditions.push(opts.reverse ? gt(record.rkey, opts.cursor) : lt(record.rkey, opts.cursor))
  }
  return db
    .select({ rkey: record.rkey, cid: record.cid, value: record.value })
    .from(record)
    .where(and(...conditions))
    .orderBy(opts.reverse ? asc(record.rkey) : desc(record.rkey))
    .limit(opts.limit)
    .all()
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
  const by = repo.startsWith('did:') ? 'a.did' : 'a.handle'
  const row = await d1
    .prepare(
      `SELECT a.did AS did, a.status AS status, r.cid AS cid, r.value AS value
       FROM account a LEFT JOIN record r ON r.did = a.did AND r.collection = ?2 AND r.rkey = ?3
       WHERE ${by} = ?1`,
    )
    .bind(by === 'a.handle' ? repo.toLowerCase() : repo, collection, rkey)
    .first<{ did: string; status: AccountStatus; cid: string | null; value: string | null }>()
  if (!row) return null
  return {
    did: row.did,
    status: row.status,
    record:
      row.cid !== null && row.value !== null ? { rkey, cid: row.cid, value: row.value } : null,
  }
}
