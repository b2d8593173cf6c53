/**
 * The D1 database and the R2 bucket, named after the hostname: reused when they exist (a
 * re-run, or resources made by hand), created otherwise.
 */
import type { CloudflareApi } from './cloudflare-api.ts'
import type { Runner } from './runner.ts'

/** What a dry run shows as the id of a database it did not create. */
export const DRY_RUN_DATABASE_ID = '00000000-0000-0000-0000-000000000000'

export async function ensureDatabase(
  api: CloudflareApi,
  runner: Runner,
  accountId: string,
  name: string,
): Promise<string> {
  const existing = await api.get<{ uuid: string; name: string }[]>(
    `/accounts/${accountId}/d1/database`,
    { name },
  )
  const found = existing.find((db) => db.name === name)
  if (found) {
    runner.info(`✓ D1 database ${name} exists (${found.uuid}), reused`)
    return found.uuid
  }
  return runner.act(
    `create the D1 database ${name}`,
    async () =>
      (await api.post<{ uuid: string }>(`/accounts/${accountId}/d1/database`, { name })).uuid,
    DRY_RUN_DATABASE_ID,
  )
}

/**
 * Turns on D1 read replication (a database setting, not a wrangler one): the Worker reads
 * through the Sessions API (src/db/session.ts), so queries are served by the nearest replica.
 */
export async function ensureReadReplication(
  api: CloudflareApi,
  runner: Runner,
  accountId: string,
  databaseId: string,
): Promise<void> {
  const path = `/accounts/${accountId}/d1/database/${databaseId}`
  if (databaseId !== DRY_RUN_DATABASE_ID) {
    const db = await api.get<{ read_replication?: { mode?: string } }>(path)
    if (db.read_replication?.mode === 'auto') {
      runner.info('✓ D1 read replication is on')
      return
    }
  }
  await runner.act(
    'turn on D1 read replication (read_replication.mode = auto)',
    () => api.put(path, { read_replication: { mode: 'auto' } }),
    undefined,
  )
}

export async function ensureBucket(
  api: CloudflareApi,
  runner: Runner,
  accountId: string,
  name: string,
): Promise<void> {
  const { buckets } = await api.get<{ buckets: { name: string }[] }>(
    `/accounts/${accountId}/r2/buckets`,
    { name_contains: name },
  )
  if (buckets.some((b) => b.name === name)) {
    runner.info(`✓ R2 bucket ${name} exists, reused`)
    return
  }
  await runner.act(
    `create the R2 bucket ${name}`,
    () => api.post(`/accounts/${accountId}/r2/buckets`, { name }),
    undefined,
  )
}
