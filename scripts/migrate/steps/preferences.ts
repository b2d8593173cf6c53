/**
 * Step 5: `app.bsky.actor.getPreferences` from the old PDS, `putPreferences` to the new one.
 * The state keeps only their count and hash, for the verification (they hold personal details
 * such as a birth date).
 */
import { createHash } from 'node:crypto'
import type { Context } from '../context.ts'

export async function copyPreferences(ctx: Context): Promise<void> {
  await ctx.oldSession()
  await ctx.newSession()
  const { preferences: all } = await ctx.old.query<{ preferences: { $type?: string }[] }>(
    'app.bsky.actor.getPreferences',
  )
  const preferences = copiable(all)
  await ctx.next.procedure('app.bsky.actor.putPreferences', {
    body: { preferences },
    retry: true,
  })
  ctx.state.preferences = { count: preferences.length, sha256: preferencesHash(preferences) }
  ctx.log(`Copied ${preferences.length} preferences.`)
}

/**
 * Derived from the birth date by the server on read, and read-only (a put drops it): not
 * copied, not compared.
 */
const DECLARED_AGE = 'app.bsky.actor.defs#declaredAgePref'

export function copiable<T extends { $type?: string }>(preferences: T[]): T[] {
  return preferences.filter((p) => p.$type !== DECLARED_AGE)
}

/** Order-insensitive in object keys (servers may reorder them), sensitive to everything else. */
export function preferencesHash(preferences: { $type?: string }[]): string {
  return createHash('sha256')
    .update(canonicalJson(copiable(preferences)))
    .digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
