/**
 * Account preferences (`app.bsky.actor.getPreferences` / `putPreferences`): private settings
 * the PDS keeps for the app, outside the repo. The rules follow the reference PDS:
 *
 * - a put replaces every preference of the `app.bsky` namespace; each object needs a `$type`
 *   in that namespace (the dispatcher has already validated the known types against the
 *   Lexicon; unknown types of the open union are kept as sent);
 * - `personalDetailsPref` (the birth date) is seen and changed only by a full-access session:
 *   an app-password session neither reads it nor may send it, and its put leaves it in place;
 * - `declaredAgePref` is read-only: derived from the birth date on read, dropped on put.
 */
import { ipldToJson, jsonToIpld } from '../data/json.ts'
import type { Db } from '../db/index.ts'
import { listPreferences, type PreferenceRow, replacePreferences } from '../db/preferences.ts'
import { RequestRefusedError, TooLargeError } from '../errors.ts'

/** A preference the rules refuse. */
export class PreferenceError extends RequestRefusedError {
  override name = 'PreferenceError'
}

/** Preferences over their size limit. */
export class PreferencesTooLargeError extends TooLargeError {
  override name = 'PreferencesTooLargeError'
}

export const PREFERENCES_NAMESPACE = 'app.bsky'
export const PERSONAL_DETAILS_PREF = 'app.bsky.actor.defs#personalDetailsPref'
export const DECLARED_AGE_PREF = 'app.bsky.actor.defs#declaredAgePref'
/** All preferences of an account together, as JSON; D1 rows stop at 2 MB. */
export const MAX_PREFERENCES_BYTES = 1024 * 1024

const FULL_ACCESS_ONLY = [PERSONAL_DETAILS_PREF]
const READ_ONLY = new Set([DECLARED_AGE_PREF])

export type Preference = Record<string, unknown> & { $type: string }

export interface PreferenceAccess {
  /** A full-access session (not an app password, privileged or not). */
  fullAccess: boolean
}

export async function readPreferences(
  db: Db,
  did: string,
  access: PreferenceAccess,
): Promise<Preference[]> {
  const rows = await listPreferences(db, did, PREFERENCES_NAMESPACE)
  const prefs = rows.map((row) => jsonToIpld(JSON.parse(row.value)) as Preference)
  const details = prefs.find((pref) => pref.$type === PERSONAL_DETAILS_PREF)
  if (typeof details?.birthDate === 'string') {
    const age = ageOn(details.birthDate, new Date())
    if (age !== null) {
      prefs.push({
        $type: DECLARED_AGE_PREF,
        isOverAge13: age >= 13,
        isOverAge16: age >= 16,
        isOverAge18: age >= 18,
      })
    }
  }
  return access.fullAccess ? prefs : prefs.filter((pref) => !FULL_ACCESS_ONLY.includes(pref.$type))
}

/** Replaces the `app.bsky` preferences with `values` (the validated `preferences` input). */
export async function writePreferences(
  db: Db,
  did: string,
  values: unknown[],
  access: PreferenceAccess,
): Promise<void> {
  const rows: PreferenceRow[] = []
  const forbidden: string[] = []
  let bytes = 0
  for (const value of values) {
    const type = (value as { $type?: unknown }).$type
    if (typeof type !== 'string') throw new PreferenceError('Preference is missing a $type')
    if (!inNamespace(type)) {
      throw new PreferenceError(
        `Some preferences are not in the ${PREFERENCES_NAMESPACE} namespace`,
      )
    }
    if (!access.fullAccess && FULL_ACCESS_ONLY.includes(type)) forbidden.push(type)
    if (READ_ONLY.has(type)) continue
    const json = JSON.stringify(ipldToJson(value))
    bytes += new TextEncoder().encode(json).byteLength
    rows.push({ type, value: json })
  }
  if (forbidden.length > 0) {
    throw new PreferenceError(
      `Do not have authorization to set preferences: ${forbidden.join(', ')}`,
    )
  }
  if (bytes > MAX_PREFERENCES_BYTES) {
    throw new PreferencesTooLargeError(`Preferences are larger than ${MAX_PREFERENCES_BYTES} bytes`)
  }
  await replacePreferences(
    db,
    did,
    PREFERENCES_NAMESPACE,
    rows,
    access.fullAccess ? [] : FULL_ACCESS_ONLY,
  )
}

function inNamespace(type: string): boolean {
  return type === PREFERENCES_NAMESPACE || type.startsWith(`${PREFERENCES_NAMESPACE}.`)
}

/** Whole years from `birthDate` to `today` (UTC); null for a date that does not parse. */
export function ageOn(birthDate: string, today: Date): number | null {
  const born = new Date(birthDate)
  if (Number.isNaN(born.getTime())) return null
  let age = today.getUTCFullYear() - born.getUTCFullYear()
  const months = today.getUTCMonth() - born.getUTCMonth()
  if (months < 0 || (months === 0 && today.getUTCDate() < born.getUTCDate())) age--
  return age
}
