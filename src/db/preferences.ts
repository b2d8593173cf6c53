/**
 * Account preferences in D1 (`account_pref`): private app settings, read and replaced a
 * namespace at a time (`app.bsky`), and exported with the account.
 */
import { and, asc, eq, notInArray, or, type SQL, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { accountPref } from './schema.ts'

export interface PreferenceRow {
  /** The `$type`. */
  type: string
  /** The preference object as JSON text. */
  value: string
}

/** D1 binds at most 100 parameters per statement; an inserted row takes three. */
const ROWS_PER_INSERT = 30

/** The account's preferences in `namespace` (all of them when null), in stored order. */
export async function listPreferences(
  db: Db,
  did: string,
  namespace: string | null,
): Promise<PreferenceRow[]> {
  const where = namespace
    ? and(eq(accountPref.did, did), inNamespace(namespace))
    : eq(accountPref.did, did)
  return db
    .select({ type: accountPref.type, value: accountPref.value })
    .from(accountPref)
    .where(where)
    .orderBy(asc(accountPref.id))
}

/**
 * Replaces the account's preferences in `namespace` with `rows`, atomically. Stored rows whose
 * type is in `keep` stay (preferences the caller may neither see nor change).
 */
export async function replacePreferences(
  db: Db,
  did: string,
  namespace: string,
  rows: PreferenceRow[],
  keep: readonly string[] = [],
): Promise<void> {
  const conditions = [eq(accountPref.did, did), inNamespace(namespace)]
  if (keep.length > 0) conditions.push(notInArray(accountPref.type, [...keep]))
  const remove = db.delete(accountPref).where(and(...conditions))
  const inserts = []
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT)
    inserts.push(db.insert(accountPref).values(chunk.map((row) => ({ did, ...row }))))
  }
  await db.batch([remove, ...inserts])
}

/** Removes every preference of the account (account deletion). */
export async function deletePreferences(db: Db, did: string): Promise<void> {
  await db.delete(accountPref).where(eq(accountPref.did, did))
}

/** `app.bsky` covers `app.bsky` itself and `app.bsky.*`, not `app.bskyfoo`. */
function inNamespace(namespace: string): SQL {
  const prefix = `${namespace}.`
  return or(
    eq(accountPref.type, namespace),
    sql`substr(${accountPref.type}, 1, ${prefix.length}) = ${prefix}`,
  ) as SQL
}
