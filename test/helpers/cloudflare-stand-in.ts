/**
 * A loopback stand-in for the Cloudflare API, enough for `npm run deploy` and the wrangler
 * commands it runs (wrangler reads `CLOUDFLARE_API_BASE_URL`). It keeps state like the real
 * service (a D1 database is a real SQLite database, so remote migrations really run), records
 * every call, and answers anything it does not know with a 404 that the test then sees in
 * `unknown`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DatabaseSync } from 'node:sqlite'

export interface RecordedCall {
  method: string
  path: string
  query: Record<string, string>
  /** JSON bodies parsed; multipart bodies as their parts; other bodies as text. */
  body: unknown
}

export interface UploadedScript {
  metadata: Record<string, unknown>
  /** Module name → source. */
  modules: Map<string, string>
  migrationTag: string | null
  secrets: Map<string, string>
  schedules: string[]
  createdOn: string
  modifiedOn: string
}

export interface StandInState {
  accounts: { id: string; name: string }[]
  zones: { id: string; name: string; accountId: string }[]
  databases: {
    uuid: string
    name: string
    db: DatabaseSync
    /** D1 read replication: off until turned on, as for a new database. */
    readReplication?: 'auto' | 'disabled'
  }[]
  buckets: { name: string }[]
  scripts: Map<string, UploadedScript>
  routes: { id: string; zoneId: string; pattern: string; script: string }[]
  domains: { id: string; hostname: string; service: string; zoneId: string }[]
}

export interface CloudflareStandIn {
  /** The value for `CLOUDFLARE_API_BASE_URL`. */
  apiBaseUrl: string
  calls: RecordedCall[]
  /** Calls nothing here answers (each is a gap in the stand-in or an unexpected call). */
  unknown: RecordedCall[]
  state: StandInState
  close(): Promise<void>
}

export interface StandInOptions {
  accounts?: { id: string; name: string }[]
  zones?: { name: string; accountId: string }[]
  token?: string
}

type Handler = (
  call: RecordedCall,
  params: string[],
) => { status?: number; result: unknown; resultInfo?: unknown } | undefined

export async function startCloudflareStandIn(
  opts: StandInOptions = {},
): Promise<CloudflareStandIn> {
  const token = opts.token ?? 'stand-in-token'
  let nextId = 1
  const id = (): string => (nextId++).toString(16).padStart(32, '0')
  const state: StandInState = {
    accounts: opts.accounts ?? [{ id: 'a'.repeat(32), name: 'Example account' }],
    zones: [],
    databases: [],
    buckets: [],
    scripts: new Map(),
    routes: [],
    domains: [],
  }
  for (const zone of opts.zones ?? []) state.zones.push({ id: id(), ...zone })
  const calls: RecordedCall[] = []
  let uploads = 0
  const versions = new Map<
    string,
    { parts: Record<string, string>; metadata: Record<string, unknown> }
  >()
  /** A new script content; secrets not in the upload are kept, as the real API does. */
  const upload = (
    parts: Record<string, string>,
    metadata: Record<string, unknown>,
    previous: UploadedScript | undefined,
    newTag: string | undefined,
  ): UploadedScript => {
    const secrets = new Map(previous?.secrets)
    for (const binding of (metadata.bindings ?? []) as Binding[]) {
      if (binding.type === 'secret_text') secrets.set(binding.name, binding.text ?? '')
    }
    return {
      metadata,
      modules: new Map(Object.entries(parts).filter(([k]) => k !== 'metadata')),
      migrationTag: newTag ?? previous?.migrationTag ?? null,
      secrets,
      schedules: previous?.schedules ?? [],
      createdOn: previous?.createdOn ?? now(),
      modifiedOn: `${now()}#${++uploads}`,
    }
  }
  const unknown: RecordedCall[] = []

  const script = (name: string): UploadedScript | undefined => state.scripts.get(name)
  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/user\/tokens\/verify$/, () => ({ result: { id: 'token', status: 'active' } })],
    ['GET', /^\/user$/, () => ({ result: { id: 'user', email: 'operator@example.com' } })],
    [
      'GET',
      /^\/accounts$/,
      () => ({ result: state.accounts, resultInfo: page(state.accounts.length) }),
    ],
    [
      'GET',
      /^\/memberships$/,
      () => ({
        result: state.accounts.map((account) => ({ id: `m-${account.id}`, account })),
        resultInfo: page(state.accounts.length),
      }),
    ],
    [
      'GET',
      /^\/zones$/,
      (call) => {
        const zones = state.zones
          .filter((z) => !call.query.name || z.name === call.query.name)
          .filter((z) => !call.query['account.id'] || z.accountId === call.query['account.id'])
          .map((z) => ({ id: z.id, name: z.name, status: 'active', account: { id: z.accountId } }))
        return { result: zones, resultInfo: page(zones.length) }
      },
    ],
    // D1
    [
      'GET',
      /^\/accounts\/[^/]+\/d1\/database$/,
      (call) => {
        const dbs = state.databases
          .filter((d) => !call.query.name || d.name === call.query.name)
          .map(describeDatabase)
        return { result: dbs, resultInfo: page(dbs.length) }
      },
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/d1\/database$/,
      (call) => {
        const { name } = call.body as { name: string }
        if (state.databases.some((d) => d.name === name)) {
          return { status: 400, result: { code: 7502, message: 'database already exists' } }
        }
        const db = { uuid: uuid(id()), name, db: new DatabaseSync(':memory:') }
        state.databases.push(db)
        return { result: describeDatabase(db) }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/d1\/database\/([^/]+)$/,
      (_call, [uuidParam]) => {
        const db = state.databases.find((d) => d.uuid === uuidParam)
        return db ? { result: describeDatabase(db) } : undefined
      },
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/d1\/database\/([^/]+)$/,
      (call, [uuidParam]) => {
        const db = state.databases.find((d) => d.uuid === uuidParam)
        if (!db) return undefined
        const mode = (call.body as { read_replication?: { mode?: string } }).read_replication?.mode
        if (mode !== 'auto' && mode !== 'disabled') {
          return { status: 400, result: { code: 7400, message: 'bad read_replication.mode' } }
        }
        db.readReplication = mode
        return { result: describeDatabase(db) }
      },
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/d1\/database\/([^/]+)\/(query|raw)$/,
      (call, [uuidParam, kind]) => {
        const db = state.databases.find((d) => d.uuid === uuidParam)
        if (!db) return undefined
        const body = call.body as { sql: string; params?: unknown[] }
        return { result: runSql(db.db, body.sql, body.params ?? [], kind === 'raw') }
      },
    ],
    // R2
    [
      'GET',
      /^\/accounts\/[^/]+\/r2\/buckets$/,
      () => ({ result: { buckets: state.buckets.map((b) => ({ ...b, creation_date: now() })) } }),
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/r2\/buckets$/,
      (call) => {
        const { name } = call.body as { name: string }
        if (state.buckets.some((b) => b.name === name)) {
          return { status: 409, result: { code: 10004, message: 'bucket already exists' } }
        }
        state.buckets.push({ name })
        return { result: { name, creation_date: now() } }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/r2\/buckets\/([^/]+)$/,
      (_call, [name]) =>
        state.buckets.some((b) => b.name === name)
          ? { result: { name, creation_date: now() } }
          : undefined,
    ],
    // Workers
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/,
      (_call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        return { result: [...found.secrets.keys()].map((n) => ({ name: n, type: 'secret_text' })) }
      },
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/,
      (call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        const { name: secret, text } = call.body as { name: string; text: string }
        found.secrets.set(secret, text)
        return { result: { name: secret, type: 'secret_text' } }
      },
    ],
    [
      'PATCH',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets-bulk$/,
      (call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        const { secrets } = call.body as { secrets: Record<string, { text: string } | null> }
        for (const [key, value] of Object.entries(secrets)) {
          if (value === null) found.secrets.delete(key)
          else found.secrets.set(key, value.text)
        }
        return { result: {} }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/services\/([^/]+)$/,
      (_call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        return {
          result: {
            id: name,
            default_environment: {
              environment: 'production',
              script: { id: name, tag: `tag-${name}`, migration_tag: found.migrationTag },
            },
          },
        }
      },
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)$/,
      (call, [name]) => {
        const parts = call.body as Record<string, string>
        const metadata = JSON.parse(parts.metadata ?? '{}') as Record<string, unknown>
        const previous = script(name!)
        const migrations = metadata.migrations as { old_tag?: string; new_tag: string } | undefined
        if (migrations && (migrations.old_tag ?? null) !== (previous?.migrationTag ?? null)) {
          return {
            status: 400,
            result: { code: 10079, message: 'migration tag precondition failed' },
          }
        }
        const uploaded = upload(parts, metadata, previous, migrations?.new_tag)
        state.scripts.set(name!, uploaded)
        return {
          result: {
            id: name,
            etag: `etag-${state.scripts.size}`,
            handlers: ['fetch', 'scheduled'],
            created_on: uploaded.createdOn,
            modified_on: now(),
            migration_tag: uploaded.migrationTag,
            deployment_id: id(),
          },
        }
      },
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/versions$/,
      (call, [name]) => {
        if (!script(name!)) return scriptNotFound()
        const parts = call.body as Record<string, string>
        const metadata = JSON.parse(parts.metadata ?? '{}') as Record<string, unknown>
        const versionId = uuid(id())
        versions.set(versionId, { parts, metadata })
        return {
          result: {
            id: versionId,
            number: versions.size + 1,
            metadata: {},
            resources: {
              script: { etag: `etag-${versionId}`, handlers: ['fetch', 'scheduled'] },
              bindings: metadata.bindings,
            },
          },
        }
      },
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/deployments$/,
      (call, [name]) => {
        const previous = script(name!)
        if (!previous) return scriptNotFound()
        const [wanted] = (call.body as { versions: { version_id: string }[] }).versions
        const version = versions.get(wanted?.version_id ?? '')
        if (!version) return { status: 400, result: { code: 10200, message: 'no such version' } }
        state.scripts.set(name!, upload(version.parts, version.metadata, previous, undefined))
        return {
          result: {
            id: uuid(id()),
            versions: [{ version_id: wanted!.version_id, percentage: 100 }],
          },
        }
      },
    ],
    [
      'PATCH',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/script-settings$/,
      (_call, [name]) => (script(name!) ? { result: {} } : scriptNotFound()),
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/schedules$/,
      (call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        found.schedules = (call.body as { cron: string }[]).map((s) => s.cron)
        return { result: { schedules: found.schedules.map((cron) => ({ cron })) } }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/workers\/([^/]+)$/,
      (_call, [name]) => {
        if (!script(name!)) return scriptNotFound()
        return {
          result: { id: name, name, subdomain: { enabled: false, previews_enabled: false } },
        }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/settings$/,
      (_call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        return {
          result: {
            bindings: found.metadata.bindings ?? [],
            compatibility_date: found.metadata.compatibility_date,
          },
        }
      },
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/routes$/,
      (call, [name]) => {
        if (!script(name!)) return scriptNotFound()
        const wanted = call.body as { pattern: string; zone_name?: string }[]
        const kept = state.routes.filter((r) => r.script !== name)
        const added = []
        for (const route of wanted) {
          const host = route.pattern.replace(/\/.*$/, '').replace(/^\*\.?/, '')
          const zone = state.zones.find((z) =>
            route.zone_name
              ? z.name === route.zone_name
              : host === z.name || host.endsWith(`.${z.name}`),
          )
          if (!zone)
            return { status: 400, result: { code: 10022, message: `no zone for ${route.pattern}` } }
          if (kept.some((r) => r.pattern === route.pattern)) {
            return {
              status: 409,
              result: { code: 10020, message: 'route taken by another Worker' },
            }
          }
          added.push({ id: id(), zoneId: zone.id, pattern: route.pattern, script: name! })
        }
        state.routes = [...kept, ...added]
        return { result: added.map(({ id, pattern, script }) => ({ id, pattern, script })) }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/deployments$/,
      (_call, [name]) => {
        const found = script(name!)
        if (!found) return scriptNotFound()
        const versions = [{ version_id: `version-${name}`, percentage: 100 }]
        return {
          result: {
            deployments: [
              { id: 'deployment', source: 'wrangler', strategy: 'percentage', versions },
            ],
          },
        }
      },
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/subdomain$/,
      () => ({ result: { subdomain: 'example' } }),
    ],
    [
      'GET',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/subdomain$/,
      () => ({ result: { enabled: false, previews_enabled: false } }),
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/subdomain$/,
      (call) => ({ result: call.body }),
    ],
    [
      'GET',
      /^\/zones\/([^/]+)\/workers\/routes$/,
      (_call, [zoneId]) => {
        const list = state.routes.filter((r) => r.zoneId === zoneId)
        return {
          result: list.map(({ id, pattern, script }) => ({ id, pattern, script })),
          resultInfo: page(list.length),
        }
      },
    ],
    [
      'POST',
      /^\/zones\/([^/]+)\/workers\/routes$/,
      (call, [zoneId]) => {
        const { pattern, script: target } = call.body as { pattern: string; script: string }
        if (state.routes.some((r) => r.zoneId === zoneId && r.pattern === pattern)) {
          return { status: 409, result: { code: 10020, message: 'duplicate route' } }
        }
        const route = { id: id(), zoneId: zoneId!, pattern, script: target }
        state.routes.push(route)
        return { result: { id: route.id } }
      },
    ],
    [
      'POST',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/domains\/changeset$/,
      (call, [name]) => {
        const wanted = call.body as { hostname: string }[]
        const added = wanted.filter((w) => !state.domains.some((d) => d.hostname === w.hostname))
        const updated = state.domains
          .filter((d) => wanted.some((w) => w.hostname === d.hostname))
          .map((d) => ({ ...d, modified: d.service !== name }))
        return { result: { added, removed: [], updated, conflicting: [] } }
      },
    ],
    [
      'PUT',
      /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/domains\/records$/,
      (call, [name]) => {
        const { origins } = call.body as { origins: { hostname: string; zone_name?: string }[] }
        for (const origin of origins) {
          const zone = state.zones.find(
            (z) => origin.hostname === z.name || origin.hostname.endsWith(`.${z.name}`),
          )
          if (!zone)
            return { status: 400, result: { code: 100117, message: 'no zone for hostname' } }
          const existing = state.domains.find((d) => d.hostname === origin.hostname)
          if (existing) existing.service = name!
          else
            state.domains.push({
              id: id(),
              hostname: origin.hostname,
              service: name!,
              zoneId: zone.id,
            })
        }
        return { result: state.domains.filter((d) => d.service === name) }
      },
    ],
  ]

  const server = createServer((req, res) => {
    answer(req, res).catch((err: Error) => {
      console.error('cloudflare stand-in:', err)
      send(res, 500, { code: 10001, message: `stand-in failed: ${err.message}` })
    })
  })
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const call = await readCall(req)
    calls.push(call)
    for (const [method, pattern, handler] of routes) {
      const match = method === call.method ? pattern.exec(call.path) : null
      if (!match) continue
      if (req.headers.authorization !== `Bearer ${token}`) {
        return send(res, 403, { code: 10000, message: 'Authentication error' })
      }
      const result = handler(call, match.slice(1))
      if (!result) break
      return send(res, result.status ?? 200, result.result, result.resultInfo)
    }
    unknown.push(call)
    send(res, 404, { code: 7003, message: `stand-in: no route for ${call.method} ${call.path}` })
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    apiBaseUrl: `http://127.0.0.1:${port}/client/v4`,
    calls,
    unknown,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

interface Binding {
  type: string
  name: string
  text?: string
}

function scriptNotFound() {
  return {
    status: 404,
    result: { code: 10007, message: 'This Worker does not exist on your account.' },
  }
}

function describeDatabase(db: { uuid: string; name: string; readReplication?: string }) {
  return {
    uuid: db.uuid,
    name: db.name,
    created_at: now(),
    version: 'production',
    read_replication: { mode: db.readReplication ?? 'disabled' },
  }
}

function runSql(db: DatabaseSync, sql: string, params: unknown[], raw: boolean) {
  const statements = splitStatements(sql)
  return statements.map((text) => {
    const stmt = db.prepare(text)
    const isRead = /^\s*(select|pragma|with)\b/i.test(text) || stmt.columns().length > 0
    const args = params as (string | number | null)[]
    if (isRead) {
      const rows = stmt.all(...args) as Record<string, unknown>[]
      const columns = stmt.columns().map((c) => c.name)
      return {
        results: raw ? { columns, rows: rows.map((r) => columns.map((c) => r[c])) } : rows,
        success: true,
        meta: { changes: 0, duration: 0.1, rows_read: rows.length, rows_written: 0 },
      }
    }
    const info = stmt.run(...args)
    return {
      results: raw ? { columns: [], rows: [] } : [],
      success: true,
      meta: { changes: Number(info.changes), duration: 0.1, rows_read: 0, rows_written: 1 },
    }
  })
}

/** SQL split on top-level semicolons (outside quotes, comments and trigger bodies). */
function splitStatements(sql: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | null = null
  let depth = 0
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!
    if (!quote && sql.startsWith('--', i)) {
      // A comment runs to the end of its line; quotes and semicolons in it mean nothing.
      const end = sql.indexOf('\n', i)
      i = end === -1 ? sql.length : end - 1
      continue
    }
    current += ch
    if (quote) {
      if (ch === quote) quote = null
      continue
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch
    else if (/^begin\b/i.test(sql.slice(i, i + 6)) && /\W/.test(sql[i - 1] ?? ' ')) depth++
    else if (/^end\b/i.test(sql.slice(i, i + 4)) && /\W/.test(sql[i - 1] ?? ' ') && depth > 0)
      depth--
    else if (ch === ';' && depth === 0) {
      if (current.trim() !== ';') out.push(current.trim())
      current = ''
    }
  }
  if (current.trim()) out.push(current.trim())
  return out.filter(
    (s) =>
      s
        .replace(/--[^\n]*/g, '')
        .trim()
        .replace(/;$/, '')
        .trim() !== '',
  )
}

async function readCall(req: IncomingMessage): Promise<RecordedCall> {
  const url = new URL(req.url ?? '/', 'http://stand-in')
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks)
  const type = req.headers['content-type'] ?? ''
  let body: unknown = raw.length ? raw.toString() : null
  if (/[/+]json/.test(type) && raw.length) body = JSON.parse(raw.toString())
  else if (type.includes('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData()
    const parts: Record<string, string> = {}
    const pending: Promise<void>[] = []
    form.forEach((value, key) => {
      if (typeof value === 'string') parts[key] = value
      else {
        pending.push(
          value.text().then((text) => {
            parts[key] = text
          }),
        )
      }
    })
    await Promise.all(pending)
    body = parts
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname.replace(/^\/client\/v4/, ''),
    query: Object.fromEntries(url.searchParams),
    body,
  }
}

function send(res: ServerResponse, status: number, result: unknown, resultInfo?: unknown): void {
  const ok = status < 400
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(
    JSON.stringify({
      success: ok,
      errors: ok ? [] : [result],
      messages: [],
      result: ok ? result : null,
      ...(resultInfo ? { result_info: resultInfo } : {}),
    }),
  )
}

function page(count: number) {
  return { page: 1, per_page: 100, count, total_count: count, total_pages: 1 }
}

function uuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function now(): string {
  return new Date().toISOString()
}
