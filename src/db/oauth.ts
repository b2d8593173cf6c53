/**
 * The authorization server's rows in D1: pushed requests and their codes, sessions with their
 * refresh tokens (hashes only), and the accounts each browser remembers. Times are epoch
 * seconds. Every single-use step (binding a request to a browser, redeeming a code, rotating
 * a refresh token) is one conditional statement, so two racing uses cannot both succeed.
 */
import { and, asc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { account, oauthDeviceAccount, oauthRequest, oauthSession } from './schema.ts'

export type OAuthRequestRow = typeof oauthRequest.$inferSelect
export type OAuthSessionRow = typeof oauthSession.$inferSelect

export async function insertOAuthRequest(db: Db, row: OAuthRequestRow): Promise<void> {
  await db.insert(oauthRequest).values(row)
}

export async function getOAuthRequest(
  db: Db,
  id: string,
  now: number,
): Promise<OAuthRequestRow | null> {
  const row = await db
    .select()
    .from(oauthRequest)
    .where(and(eq(oauthRequest.id, id), gt(oauthRequest.expiresAt, now)))
    .get()
  return row ?? null
}

/**
 * Ties a request to the browser that opened it (first come) and gives the user time to sign
 * in; null when another browser has it, a code was issued already, or it expired.
 */
export async function bindOAuthRequest(
  db: Db,
  id: string,
  deviceHash: string,
  now: number,
  expiresAt: number,
): Promise<OAuthRequestRow | null> {
  const row = await db
    .update(oauthRequest)
    .set({
      deviceId: deviceHash,
      expiresAt: sql`CASE WHEN ${oauthRequest.deviceId} IS NULL THEN ${expiresAt} ELSE ${oauthRequest.expiresAt} END`,
    })
    .where(
      and(
        eq(oauthRequest.id, id),
        gt(oauthRequest.expiresAt, now),
        isNull(oauthRequest.codeHash),
        or(isNull(oauthRequest.deviceId), eq(oauthRequest.deviceId, deviceHash)),
      ),
    )
    .returning()
    .get()
  return row ?? null
}

/** The account that signed in for the request, in the browser it is bound to. */
export async function setOAuthRequestAccount(
  db: Db,
  id: string,
  deviceHash: string,
  did: string | null,
): Promise<void> {
  await db
    .update(oauthRequest)
    .set({ did })
    .where(
      and(
        eq(oauthRequest.id, id),
        eq(oauthRequest.deviceId, deviceHash),
        isNull(oauthRequest.codeHash),
      ),
    )
}

/** Stores the code's hash once: false when the request already has a code or is not ready. */
export async function setOAuthRequestCode(
  db: Db,
  id: string,
  deviceHash: string,
  codeHash: string,
  expiresAt: number,
): Promise<boolean> {
  const row = await db
    .update(oauthRequest)
    .set({ codeHash, expiresAt })
    .where(
      and(
        eq(oauthRequest.id, id),
        eq(oauthRequest.deviceId, deviceHash),
        isNull(oauthRequest.codeHash),
        sql`${oauthRequest.did} IS NOT NULL`,
      ),
    )
    .returning({ id: oauthRequest.id })
    .get()
  return row !== undefined
}

export async function deleteOAuthRequest(db: Db, id: string): Promise<void> {
  await db.delete(oauthRequest).where(eq(oauthRequest.id, id))
}

/** Takes the request a code belongs to out of the table: a code works once. */
export async function redeemOAuthCode(db: Db, codeHash: string): Promise<OAuthRequestRow | null> {
  const row = await db
    .delete(oauthRequest)
    .where(eq(oauthRequest.codeHash, codeHash))
    .returning()
    .get()
  return row ?? null
}

export async function insertOAuthSession(db: Db, row: OAuthSessionRow): Promise<void> {
  await db.insert(oauthSession).values(row)
}

export interface OAuthSessionWithStatus extends OAuthSessionRow {
  accountStatus: string | null
}

/** The session an access token names, with its account's status (null: no such account). */
export async function getOAuthSession(db: Db, id: string): Promise<OAuthSessionWithStatus | null> {
  const row = await db
    .select({ session: oauthSession, accountStatus: account.status })
    .from(oauthSession)
    .leftJoin(account, eq(account.did, oauthSession.did))
    .where(eq(oauthSession.id, id))
    .get()
  return row ? { ...row.session, accountStatus: row.accountStatus } : null
}

export async function getOAuthSessionByRefresh(
  db: Db,
  refreshHash: string,
): Promise<OAuthSessionRow | null> {
  const row = await db
    .select()
    .from(oauthSession)
    .where(eq(oauthSession.refreshHash, refreshHash))
    .get()
  return row ?? null
}

/** Replaces the refresh token, once: false when another request rotated it first. */
export async function rotateOAuthRefresh(
  db: Db,
  oldHash: string,
  newHash: string,
  now: number,
  expiresAt: number,
): Promise<boolean> {
  const row = await db
    .update(oauthSession)
    .set({
      refreshHash: newHash,
      previousRefreshHash: oldHash,
      updatedAt: now,
      expiresAt,
    })
    .where(and(eq(oauthSession.refreshHash, oldHash), gt(oauthSession.expiresAt, now)))
    .returning({ id: oauthSession.id })
    .get()
  return row !== undefined
}

/**
 * Ends the session a replayed credential belongs to (a refresh token already rotated, or a
 * code already redeemed): whoever holds the copy, the session is no longer trusted.
 */
export async function revokeOAuthSessionByReplay(
  db: Db,
  hash: { previousRefreshHash: string } | { codeHash: string },
): Promise<boolean> {
  const condition =
    'codeHash' in hash
      ? eq(oauthSession.codeHash, hash.codeHash)
      : eq(oauthSession.previousRefreshHash, hash.previousRefreshHash)
  const rows = await db.delete(oauthSession).where(condition).returning({ id: oauthSession.id })
  return rows.length > 0
}

export async function deleteOAuthSession(db: Db, id: string, did?: string): Promise<boolean> {
  const rows = await db
    .delete(oauthSession)
    .where(did ? and(eq(oauthSession.id, id), eq(oauthSession.did, did)) : eq(oauthSession.id, id))
    .returning({ id: oauthSession.id })
  return rows.length > 0
}

export async function listOAuthSessions(
  db: Db,
  did: string,
  now: number,
): Promise<OAuthSessionRow[]> {
  return db
    .select()
    .from(oauthSession)
    .where(and(eq(oauthSession.did, did), gt(oauthSession.expiresAt, now)))
    .orderBy(asc(oauthSession.createdAt))
}

export async function rememberDeviceAccount(
  db: Db,
  deviceHash: string,
  did: string,
  now: number,
  expiresAt: number,
): Promise<void> {
  await db
    .insert(oauthDeviceAccount)
    .values({ deviceHash, did, authenticatedAt: now, expiresAt })
    .onConflictDoUpdate({
      target: [oauthDeviceAccount.deviceHash, oauthDeviceAccount.did],
      set: { authenticatedAt: now, expiresAt },
    })
}

export interface RememberedAccount {
  did: string
  handle: string
}

/** Accounts signed in on this browser and still remembered, active ones only. */
export async function listDeviceAccounts(
  db: Db,
  deviceHash: string,
  now: number,
): Promise<RememberedAccount[]> {
  return db
    .select({ did: account.did, handle: account.handle })
    .from(oauthDeviceAccount)
    .innerJoin(account, eq(account.did, oauthDeviceAccount.did))
    .where(
      and(
        eq(oauthDeviceAccount.deviceHash, deviceHash),
        gt(oauthDeviceAccount.expiresAt, now),
        eq(account.status, 'active'),
      ),
    )
    .orderBy(asc(account.handle))
}

export async function forgetDeviceAccount(db: Db, deviceHash: string, did: string): Promise<void> {
  await db
    .delete(oauthDeviceAccount)
    .where(and(eq(oauthDeviceAccount.deviceHash, deviceHash), eq(oauthDeviceAccount.did, did)))
}

/** The scheduled cleanup: requests, sessions and remembered sign-ins past their expiry. */
export async function deleteExpiredOAuthRows(db: Db, now: Date): Promise<void> {
  const seconds = Math.floor(now.getTime() / 1000)
  await db.batch([
    db.delete(oauthRequest).where(lt(oauthRequest.expiresAt, seconds)),
    db.delete(oauthSession).where(lt(oauthSession.expiresAt, seconds)),
    db.delete(oauthDeviceAccount).where(lt(oauthDeviceAccount.expiresAt, seconds)),
  ])
}
