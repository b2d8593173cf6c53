/**
 * D1 queries of blob storage: the `blob` rows, the references records hold (`record_blob`,
 * written by the record index), per-account usage, and the queue of R2 objects to delete.
 * The invariants between them are kept by triggers (migrations/0003_blob_triggers.sql).
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { blob, blobDeletion, blobUsage, recordBlob } from './schema.ts'

export interface BlobRow {
  cid: string
  key: string
  mimeType: string
  size: number
  temp: boolean
  /** Set while moderation withholds the blob. */
  takedownRef?: string | null
}

export interface BlobUsage {
  blobCount: number
  blobBytes: number
}

export async function getBlobUsage(db: Db, did: string): Promise<BlobUsage> {
  const row = await db
    .select({ blobCount: blobUsage.blobCount, blobBytes: blobUsage.blobBytes })
    .from(blobUsage)
    .where(eq(blobUsage.did, did))
    .get()
  return row ?? { blobCount: 0, blobBytes: 0 }
}

/**
 * Queued before an upload starts: if the Worker dies mid-upload, the object it may have left
 * in R2 is deleted after `notBefore`. Storing the blob's row takes it off the queue.
 */
export async function queueUploadObject(
  db: Db,
  did: string,
  key: string,
  notBefore: string,
): Promise<void> {
  await db.insert(blobDeletion).values({ key, did, notBefore }).onConflictDoNothing()
}

export interface NewBlob {
  did: string
  cid: string
  key: string
  mimeType: string
  size: number
  createdAt: string
  /** Null: no quota. */
  quotaBytes: number | null
}

/**
 * Stores an uploaded blob in one transaction and returns the row now stored for its CID:
 * - a CID new to the account gets a row with this upload's key (permanent at once if a record
 *   already references it: a migrated repo), unless the account's quota would be exceeded;
 * - a CID the account already holds keeps its row (a temporary one restarts its grace period),
 *   and this upload's object is left queued for deletion, now.
 * Null means the quota refused it. (Plain D1: drizzle cannot batch raw statements.)
 */
export async function insertUploadedBlob(d1: D1Database, row: NewBlob): Promise<BlobRow | null> {
  const { did, cid, key, mimeType, size, createdAt, quotaBytes } = row
  const [, , , stored] = await d1.batch<StoredRow>([
    d1.prepare(INSERT_BLOB).bind(did, cid, key, mimeType, size, createdAt, quotaBytes),
    d1.prepare(UNQUEUE_STORED).bind(key),
    d1.prepare('UPDATE blob_deletion SET not_before = ?2 WHERE key = ?1').bind(key, createdAt),
    d1.prepare(SELECT_BLOB).bind(did, cid),
  ])
  const found = stored?.results[0]
  return found ? { ...found, temp: found.temp === 1 } : null
}

type StoredRow = Omit<BlobRow, 'temp'> & { temp: number }

const INSERT_BLOB = `INSERT INTO blob (did, cid, key, mime_type, size, temp, created_at)
  SELECT ?1, ?2, ?3, ?4, ?5,
    NOT EXISTS (SELECT 1 FROM record_blob WHERE did = ?1 AND blob_cid = ?2), ?6
  WHERE ?7 IS NULL OR COALESCE((SELECT blob_bytes FROM blob_usage WHERE did = ?1), 0) + ?5 <= ?7
  ON CONFLICT (did, cid) DO UPDATE SET created_at = excluded.created_at WHERE blob.temp = 1`

const UNQUEUE_STORED = `DELETE FROM blob_deletion
  WHERE key = ?1 AND EXISTS (SELECT 1 FROM blob WHERE key = ?1)`

const SELECT_BLOB = `SELECT cid, key, mime_type AS mimeType, size, temp FROM blob
  WHERE did = ?1 AND cid = ?2`

/** Takes objects off the deletion queue once they are deleted from R2. */
export async function clearBlobDeletions(db: Db, keys: string[]): Promise<void> {
  if (keys.length === 0) return
  await db.run(sql`
    DELETE FROM blob_deletion WHERE key IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`)
}

export async function getBlobRow(db: Db, did: string, cid: string): Promise<BlobRow | null> {
  const row = await db
    .select({
      cid: blob.cid,
      key: blob.key,
      mimeType: blob.mimeType,
      size: blob.size,
      temp: blob.temp,
      takedownRef: blob.takedownRef,
    })
    .from(blob)
    .where(and(eq(blob.did, did), eq(blob.cid, cid)))
    .get()
  return row ?? null
}

/** The account's rows for these CIDs (temporary or permanent); absent CIDs are left out. */
export async function findBlobRows(db: Db, did: string, cids: string[]): Promise<BlobRow[]> {
  if (cids.length === 0) return []
  const rows = await db.all<Omit<BlobRow, 'temp'> & { temp: number }>(sql`
    SELECT cid, key, mime_type AS mimeType, size, temp FROM blob
    WHERE did = ${did} AND cid IN (SELECT value FROM json_each(${JSON.stringify(cids)}))`)
  return rows.map((row) => ({ ...row, temp: row.temp === 1 }))
}

/**
 * Makes the account's temporary blobs among `cids` permanent before a write that references
 * them is committed; returns the CIDs it changed. The record index makes them permanent too,
 * but only once the commit is delivered, which may be after the grace period.
 */
export async function pinBlobs(db: Db, did: string, cids: string[]): Promise<string[]> {
  if (cids.length === 0) return []
  const rows = await db.all<{ cid: string }>(sql`
    UPDATE blob SET temp = 0
    WHERE did = ${did} AND temp = 1
      AND cid IN (SELECT value FROM json_each(${JSON.stringify(cids)}))
    RETURNING cid`)
  return rows.map((row) => row.cid)
}

/** Undoes pinBlobs after the write was refused, for blobs no record references. */
export async function unpinBlobs(db: Db, did: string, cids: string[]): Promise<void> {
  if (cids.length === 0) return
  await db.run(sql`
    UPDATE blob SET temp = 1
    WHERE did = ${did} AND temp = 0
      AND cid IN (SELECT value FROM json_each(${JSON.stringify(cids)}))
      AND NOT EXISTS (
        SELECT 1 FROM record_blob WHERE record_blob.did = blob.did AND blob_cid = blob.cid
      )`)
}

/**
 * CIDs of the account's referenced blobs that this PDS holds, in CID order. With `since`,
 * only those referenced by record versions written after that rev.
 */
export async function listBlobCids(
  db: Db,
  opts: { did: string; since?: string; cursor?: string; limit: number },
): Promise<string[]> {
  const { did, since, cursor, limit } = opts
  if (since === undefined) {
    const conditions = [eq(blob.did, did), eq(blob.temp, false)]
    if (cursor !== undefined) conditions.push(gt(blob.cid, cursor))
    const rows = await db
      .select({ cid: blob.cid })
      .from(blob)
      .where(and(...conditions))
      .orderBy(asc(blob.cid))
      .limit(limit)
      .all()
    return rows.map((row) => row.cid)
  }
  const rows = await db.all<{ cid: string }>(sql`
    SELECT DISTINCT rb.blob_cid AS cid FROM record_blob rb
    JOIN blob b ON b.did = rb.did AND b.cid = rb.blob_cid
    WHERE rb.did = ${did} AND rb.rev > ${since}
      AND (${cursor ?? null} IS NULL OR rb.blob_cid > ${cursor ?? null})
    ORDER BY rb.blob_cid LIMIT ${limit}`)
  return rows.map((row) => row.cid)
}

export interface MissingBlob {
  cid: string
  collection: string
  rkey: string
}

/** Blobs the account's records reference that this PDS does not hold, one record each. */
export async function listMissingBlobs(
  db: Db,
  opts: { did: string; cursor?: string; limit: number },
): Promise<MissingBlob[]> {
  const { did, cursor, limit } = opts
  const rows = await db.all<{ cid: string; path: string }>(sql`
    SELECT rb.blob_cid AS cid, MIN(rb.collection || '/' || rb.rkey) AS path FROM record_blob rb
    WHERE rb.did = ${did}
      AND (${cursor ?? null} IS NULL OR rb.blob_cid > ${cursor ?? null})
      AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.did = rb.did AND b.cid = rb.blob_cid)
    GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT ${limit}`)
  return rows.map(({ cid, path }) => {
    const slash = path.indexOf('/')
    return { cid, collection: path.slice(0, slash), rkey: path.slice(slash + 1) }
  })
}

/** For checkAccountStatus: blobs the records reference, and how many of them are here. */
export async function getBlobCounts(
  db: Db,
  did: string,
): Promise<{ expectedBlobs: number; importedBlobs: number }> {
  const row = await db.get<{ expected: number; imported: number }>(sql`
    SELECT COUNT(DISTINCT rb.blob_cid) AS expected, COUNT(DISTINCT b.cid) AS imported
    FROM record_blob rb LEFT JOIN blob b ON b.did = rb.did AND b.cid = rb.blob_cid
    WHERE rb.did = ${did}`)
  return { expectedBlobs: row?.expected ?? 0, importedBlobs: row?.imported ?? 0 }
}

/**
 * Deletes up to `limit` temporary blobs created before `cutoff` (their objects are queued by
 * trigger); returns how many went.
 */
export async function deleteExpiredTempBlobs(
  db: Db,
  cutoff: string,
  limit: number,
): Promise<number> {
  const rows = await db.all<{ cid: string }>(sql`
    DELETE FROM blob WHERE rowid IN (
      SELECT rowid FROM blob WHERE temp = 1 AND created_at < ${cutoff} LIMIT ${limit}
    ) RETURNING cid`)
  return rows.length
}

/** Queued objects whose time has come, oldest first. */
export async function dueBlobDeletions(db: Db, now: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ key: blobDeletion.key })
    .from(blobDeletion)
    .where(sql`${blobDeletion.notBefore} <= ${now}`)
    .orderBy(asc(blobDeletion.notBefore))
    .limit(limit)
    .all()
  return rows.map((row) => row.key)
}

/** Every queued object of the account, whatever its time (account deletion). */
export async function accountBlobDeletions(db: Db, did: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ key: blobDeletion.key })
    .from(blobDeletion)
    .where(eq(blobDeletion.did, did))
    .limit(limit)
    .all()
  return rows.map((row) => row.key)
}

/** Drops every blob row of the account, which queues all its objects for deletion. */
export async function deleteAccountBlobRows(db: Db, did: string): Promise<void> {
  await db.batch([
    db.delete(recordBlob).where(eq(recordBlob.did, did)),
    db.delete(blob).where(eq(blob.did, did)),
    db.delete(blobUsage).where(eq(blobUsage.did, did)),
  ])
}
