/**
 * Sessions of the admin web page. Signing in with the admin password sets a random cookie
 * (Secure outside local http, HttpOnly, SameSite=Strict, Path=/admin); D1 keeps only its
 * SHA-256, with the session's CSRF token, which every form posts back.
 */
import { eq, lt } from 'drizzle-orm'
import { timingSafeEqualString } from '../auth/constant-time.ts'
import { randomToken } from '../auth/random-token.ts'
import type { Config } from '../config.ts'
import { sha256 } from '../crypto/hash.ts'
import { base64UrlEncode } from '../data/base64.ts'
import type { Db } from '../db/index.ts'
import { adminSession } from '../db/schema.ts'

export const ADMIN_COOKIE = 'pds_admin'
const SESSION_HOURS = 8

export interface AdminSession {
  csrf: string
}

function hashOf(id: string): string {
  return base64UrlEncode(sha256(new TextEncoder().encode(id)))
}

/** A new session: the cookie header to set, and the session. */
export async function openAdminSession(
  db: Db,
  config: Config,
  now = new Date(),
): Promise<{ cookie: string; session: AdminSession }> {
  const id = randomToken(32)
  const csrf = randomToken(24)
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000)
  await db
    .insert(adminSession)
    .values({ idHash: hashOf(id), csrf, expiresAt: expiresAt.toISOString() })
  return { cookie: cookieHeader(config, id, SESSION_HOURS * 3600), session: { csrf } }
}

/** The session the request's cookie names, if it is live. */
export async function readAdminSession(
  db: Db,
  request: Request,
  now = new Date(),
): Promise<AdminSession | null> {
  const id = cookieValue(request.headers.get('cookie'), ADMIN_COOKIE)
  if (!id) return null
  const row = await db
    .select()
    .from(adminSession)
    .where(eq(adminSession.idHash, hashOf(id)))
    .get()
  if (!row || Date.parse(row.expiresAt) <= now.getTime()) return null
  return { csrf: row.csrf }
}

export async function closeAdminSession(db: Db, config: Config, request: Request): Promise<string> {
  const id = cookieValue(request.headers.get('cookie'), ADMIN_COOKIE)
  if (id) await db.delete(adminSession).where(eq(adminSession.idHash, hashOf(id)))
  return cookieHeader(config, '', 0)
}

export function csrfMatches(session: AdminSession, sent: unknown): boolean {
  return typeof sent === 'string' && timingSafeEqualString(sent, session.csrf)
}

export async function deleteExpiredAdminSessions(db: Db, now: Date): Promise<void> {
  await db.delete(adminSession).where(lt(adminSession.expiresAt, now.toISOString()))
}

function cookieHeader(config: Config, value: string, maxAge: number): string {
  // Browsers drop a Secure cookie set over plain http, which only local development uses.
  const secure = config.publicUrl.startsWith('https://') ? '; Secure' : ''
  return `${ADMIN_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`
}

function cookieValue(header: string | null, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null
  }
  return null
}
