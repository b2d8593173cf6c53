/**
 * Moderation state in D1: takedown references on accounts, records and blobs, the per-account
 * invite switch, and what the operator's account lists read.
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { account, blob, inviteCode, record, refreshToken } from './schema.ts'

/** Sets or clears an account's takedown reference (its status is set with the account object). */
export async function setAccountTakedownRef(
  db: Db,
  did: string,
  ref: string | null,
): Promise<void> {
  await db.update(account).set({ takedownRef: ref }).where(eq(account.did, did))
}

/** Ends every session of the account (its refresh tokens); access tokens expire on their own. */
export async function deleteRefreshTokensOf(db: Db, did: string): Promise<void> {
  await db.delete(refreshToken).where(eq(refreshToken.did, did))
}

export interface RecordKey {
  did: string
  collection: string
  rkey: string
}

/** The record's current CID and takedown reference; null when the index has no such record. */
export async function getRecordModeration(
  db: Db,
  key: RecordKey,
): Promise<{ cid: string; takedownRef: string | null } | null> {
  const row = await db
    .select({ cid: record.cid, takedownRef: record.takedownRef })
    .from(record)
    .where(recordWhere(key))
    .get()
  return row ?? null
}

/** Sets or clears a record's takedown; false when the index has no such record. */
export async function setRecordTakedownRef(
  db: Db,
  key: RecordKey,
  ref: string | null,
): Promise<boolean> {
  const result = await db.update(record).set({ takedownRef: ref }).where(recordWhere(key)).run()
  return (result.meta.changes ?? 0) > 0
}

export async function getBlobTakedownRef(
  db: Db,
  did: string,
  cid: string,
): Promise<{ takedownRef: string | null } | null> {
  const row = await db
    .select({ takedownRef: blob.takedownRef })
    .from(blob)
    .where(and(eq(blob.did, did), eq(blob.cid, cid)))
    .get()
  return row ?? null
}

/** Sets or clears a blob's takedown; false when the account holds no such blob. */
export async function setBlobTakedownRef(
  db: Db,
  did: string,
  cid: string,
  ref: string | null,
): Promise<boolean> {
  const result = await db
    .update(blob)
    .set({ takedownRef: ref })
    .where(and(eq(blob.did, did), eq(blob.cid, cid)))
    .run()
  return (result.meta.changes ?? 0) > 0
}

/** Switches the account's invite codes off or on (disableAccountInvites / enableAccountInvites). */
export async function setInvitesDisabled(db: Db, did: string, disabled: boolean): Promise<void> {
  await db.update(account).set({ invitesDisabled: disabled }).where(eq(account.did, did))
}

/** Disables every code made for these accounts (`disableInviteCodes` with `accounts`). */
export async function disableInviteCodesOf(db: Db, accounts: string[]): Promise<void> {
  if (accounts.length > 0) {
    await db
      .update(inviteCode)
      .set({ disabled: true })
      .where(inArray(inviteCode.forAccount, accounts))
  }
}

/** The code an account signed up with, if any. */
export async function inviteCodeUsedBy(db: Db, did: string): Promise<string | null> {
  const row = await db.get<{ code: string }>(
    sql`SELECT code FROM invite_code_use WHERE used_by = ${did} LIMIT 1`,
  )
  return row?.code ?? null
}

function recordWhere(key: RecordKey) {
  return and(
    eq(record.did, key.did),
    eq(record.collection, key.collection),
    eq(record.rkey, key.rkey),
  )
}
