/**
 * `npm run deploy` end to end against a loopback stand-in of the Cloudflare API: the real CLI,
 * the real wrangler (pointed at the stand-in by CLOUDFLARE_API_BASE_URL), and the uploaded
 * Worker run in workerd for the live check. A second run must upgrade without creating
 * anything twice or touching a secret.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CloudflareStandIn,
  type RecordedCall,
  startCloudflareStandIn,
} from '../helpers/cloudflare-stand-in.ts'
import { serveUploadedWorker } from '../helpers/uploaded-worker.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const ACCOUNT = 'f'.repeat(32)
const NAME = 'pds-example-com'

let api: CloudflareStandIn
let live: { url: string; close(): Promise<void> }
let deployDir: string

beforeAll(async () => {
  api = await startCloudflareStandIn({
    accounts: [{ id: ACCOUNT, name: 'Operator' }],
    zones: [{ name: 'example.com', accountId: ACCOUNT }],
  })
  live = await serveUploadedWorker(api.state.scripts, NAME)
  deployDir = mkdtempSync(join(tmpdir(), 'edge-pds-deploy-'))
})

afterAll(async () => {
  await live?.close()
  await api?.close()
  if (deployDir) rmSync(deployDir, { recursive: true, force: true })
})

function deploy(
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'cli/deploy/index.ts'),
        '--yes',
        '--hostname',
        'pds.example.com',
        '--handle-domains',
        '.example.com',
        '--contact-email',
        'operator@example.com',
        '--invite-required',
        'true',
        '--mailer',
        'none',
        '--check-url',
        live.url,
        '--check-timeout',
        '30',
        ...args,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          CLOUDFLARE_API_BASE_URL: api.apiBaseUrl,
          CLOUDFLARE_API_TOKEN: 'stand-in-token',
          PDS_DEPLOY_DIR: deployDir,
          ...env,
        },
      },
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

/** Script uploads: the first is a PUT of the script, later ones new versions (secrets kept). */
const uploadsOf = (calls: RecordedCall[]) =>
  calls.filter(
    (c) =>
      (c.method === 'PUT' && new RegExp(`/workers/scripts/${NAME}$`).test(c.path)) ||
      (c.method === 'POST' && new RegExp(`/workers/scripts/${NAME}/versions$`).test(c.path)),
  )

const made = (calls: RecordedCall[], method: string, pattern: RegExp) =>
  calls.filter((c) => c.method === method && pattern.test(c.path))

describe('npm run deploy', () => {
  let firstSecrets: Map<string, string>

  it('--dry-run changes nothing and prints every action', async () => {
    const { code, output } = await deploy(['--dry-run'])
    expect(code, output).toBe(0)
    for (const action of [
      'would create the D1 database pds-example-com',
      'would create the R2 bucket pds-example-com',
      'would turn on D1 read replication',
      'would write',
      'would apply the D1 migrations remotely',
      'would deploy the Worker pds-example-com',
      'would set the secrets PDS_JWT_SECRET, PDS_ADMIN_PASSWORD, PDS_PLC_ROTATION_KEY, PDS_KEY_ENCRYPTION_SECRET',
      `would check ${live.url}/xrpc/_health`,
    ]) {
      expect(output).toContain(action)
    }
    expect(api.calls.filter((c) => c.method !== 'GET')).toEqual([])
    expect(readdirSync(deployDir)).toEqual([])
  }, 60_000)

  it('creates everything on the first run, and the upload serves', async () => {
    api.calls.length = 0
    const { code, output } = await deploy()
    expect(code, output).toBe(0)
    expect(api.unknown).toEqual([])

    // D1 and R2, named after the hostname.
    expect(made(api.calls, 'POST', /\/d1\/database$/).map((c) => c.body)).toEqual([{ name: NAME }])
    expect(made(api.calls, 'POST', /\/r2\/buckets$/).map((c) => c.body)).toEqual([{ name: NAME }])
    const database = api.state.databases[0]!
    // Read replication turned on (a database setting: the Worker reads through sessions).
    expect(made(api.calls, 'PUT', /\/d1\/database\/[^/]+$/).map((c) => c.body)).toEqual([
      { read_replication: { mode: 'auto' } },
    ])
    expect(database.readReplication).toBe('auto')
    // Remote migrations really ran: every file is recorded and its tables exist.
    const migrations = readdirSync(join(root, 'migrations')).filter((f) => f.endsWith('.sql'))
    const applied = database.db.prepare('SELECT name FROM d1_migrations ORDER BY id').all()
    expect(applied.map((r) => r.name)).toEqual(migrations.sort())
    expect(
      database.db.prepare("SELECT name FROM sqlite_master WHERE name = 'account'").all(),
    ).toHaveLength(1)

    // The script upload and its bindings.
    expect(uploadsOf(api.calls)).toHaveLength(1)
    const script = api.state.scripts.get(NAME)!
    const bindings = script.metadata.bindings as Record<string, string>[]
    const byName = Object.fromEntries(bindings.map((b) => [b.name, b]))
    expect(byName.DB).toMatchObject({ type: 'd1', id: database.uuid })
    expect(byName.STORAGE).toMatchObject({ type: 'r2_bucket', bucket_name: NAME })
    expect(byName.ACCOUNT).toMatchObject({
      type: 'durable_object_namespace',
      class_name: 'AccountDurableObject',
    })
    expect(byName.SEQUENCER).toMatchObject({ class_name: 'SequencerDurableObject' })
    expect(byName.PDS_HOSTNAME).toMatchObject({ type: 'plain_text', text: 'pds.example.com' })
    expect(byName.PDS_HANDLE_DOMAINS).toMatchObject({ text: '.example.com' })
    expect(byName.PDS_CONTACT_EMAIL).toMatchObject({ text: 'operator@example.com' })
    expect(byName.PDS_INVITE_REQUIRED).toMatchObject({ text: 'true' })
    // No secret travels in the upload (they are set apart, and kept across uploads).
    for (const secret of ['PDS_JWT_SECRET', 'PDS_ADMIN_PASSWORD', 'PDS_PLC_ROTATION_KEY']) {
      expect(byName[secret]).toBeUndefined()
    }
    // Durable Object migrations from the committed wrangler.toml.
    expect(script.metadata.migrations).toMatchObject({
      new_tag: 'v1',
      steps: [{ new_sqlite_classes: ['AccountDurableObject', 'SequencerDurableObject'] }],
    })
    expect(script.schedules).toEqual(['*/10 * * * *'])

    // The Custom Domain and the handle route.
    expect(api.state.domains.map((d) => [d.hostname, d.service])).toEqual([
      ['pds.example.com', NAME],
    ])
    expect(api.state.routes.map((r) => [r.pattern, r.script])).toEqual([['*.example.com/*', NAME]])

    // Secrets: all four, each set once, shown once.
    firstSecrets = new Map(script.secrets)
    expect([...firstSecrets.keys()].sort()).toEqual([
      'PDS_ADMIN_PASSWORD',
      'PDS_JWT_SECRET',
      'PDS_KEY_ENCRYPTION_SECRET',
      'PDS_PLC_ROTATION_KEY',
    ])
    expect(firstSecrets.get('PDS_PLC_ROTATION_KEY')).toMatch(/^[0-9a-f]{64}$/)
    expect(output).toContain(
      `Admin password (user "admin"): ${firstSecrets.get('PDS_ADMIN_PASSWORD')}`,
    )
    expect(output).toContain('WARNING: keep a copy')
    const config = readFileSync(join(deployDir, 'pds.example.com/wrangler.json'), 'utf8')
    for (const value of firstSecrets.values()) expect(config).not.toContain(value)

    // The live check ran against the uploaded Worker (in workerd) and found it configured.
    expect(output).toMatch(
      /is up: version .*, did:web:pds\.example\.com, handles \.example\.com, invites required/,
    )
    expect(output).toContain('*.example.com  AAAA  100::')
    expect(output).toContain('npm run pds -- account create')
  }, 120_000)

  it('the generated configuration builds with wrangler deploy --dry-run', async () => {
    const outdir = join(deployDir, 'dry-run-bundle')
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/wrangler/bin/wrangler.js'),
        'deploy',
        '--dry-run',
        '--outdir',
        outdir,
        '--config',
        join(deployDir, 'pds.example.com/wrangler.json'),
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, WRANGLER_HIDE_BANNER: 'true', CI: 'true' },
      },
    )
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0)
    expect(run.stdout).toContain('--dry-run: exiting now.')
    expect(readdirSync(outdir)).toContain('index.js')
  }, 60_000)

  it('a second run applies only new migrations, redeploys, creates nothing and keeps every secret', async () => {
    // The database as the previous checkout left it: every migration but the newest applied.
    const database = api.state.databases[0]!
    const files = readdirSync(join(root, 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
    const older = new DatabaseSync(':memory:')
    older.exec(
      'CREATE TABLE d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
    )
    for (const file of files.slice(0, -1)) {
      older.exec(readFileSync(join(root, 'migrations', file), 'utf8'))
      older.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(file)
    }
    database.db = older
    api.calls.length = 0

    const { code, output } = await deploy()
    expect(code, output).toBe(0)
    expect(api.unknown).toEqual([])
    expect(made(api.calls, 'POST', /\/d1\/database$/)).toEqual([])
    expect(made(api.calls, 'POST', /\/r2\/buckets$/)).toEqual([])
    expect(made(api.calls, 'PUT', /\/d1\/database\/[^/]+$/)).toEqual([])
    expect(output).toContain('D1 read replication is on')
    expect(made(api.calls, 'PATCH', /secrets-bulk$/)).toEqual([])
    expect(made(api.calls, 'PUT', /\/secrets$/)).toEqual([])
    expect(api.state.scripts.get(NAME)!.secrets).toEqual(firstSecrets)
    expect(output).not.toContain('shown once')
    expect(output).toContain('secrets are set, kept as they are')

    // Only the newest migration ran.
    const newest = files.at(-1)!
    const ddl = made(api.calls, 'POST', /\/query$/).map((c) => (c.body as { sql: string }).sql)
    expect(
      ddl.filter((sql) =>
        sql.includes(
          readFileSync(join(root, 'migrations', newest), 'utf8')
            .trim()
            .slice(0, 40),
        ),
      ),
    ).toHaveLength(1)
    const applied = database.db.prepare('SELECT name FROM d1_migrations ORDER BY id').all()
    expect(applied.map((r) => r.name)).toEqual(files)

    // Redeployed; the Durable Objects need no new migration; nothing doubled.
    expect(uploadsOf(api.calls)).toHaveLength(1)
    expect(api.state.scripts.get(NAME)!.metadata.migrations).toBeUndefined()
    expect(api.state.databases).toHaveLength(1)
    expect(api.state.buckets).toHaveLength(1)
    expect(api.state.routes).toHaveLength(1)
    expect(api.state.domains).toHaveLength(1)
    expect(output).toMatch(/is up: version/)
  }, 120_000)

  it('switching the mailer to resend adds only its API key and the mailer settings', async () => {
    const before = new Map(api.state.scripts.get(NAME)!.secrets)
    api.calls.length = 0
    const backup = join(deployDir, 'secrets-backup.env')
    const { code, output } = await deploy(
      ['--mailer', 'resend', '--email-from', 'pds@example.com', '--backup-secrets', backup],
      { PDS_RESEND_API_KEY: 're_test_key' },
    )
    expect(code, output).toBe(0)
    // The backup, asked for, holds what this run generated (the new key only), owner-readable.
    expect(readFileSync(backup, 'utf8')).toMatch(
      /^# Secrets of the PDS pds\.example\.com.*\nPDS_RESEND_API_KEY=re_test_key\n$/,
    )
    expect(statSync(backup).mode & 0o777).toBe(0o600)
    const script = api.state.scripts.get(NAME)!
    expect(script.secrets).toEqual(new Map([...before, ['PDS_RESEND_API_KEY', 're_test_key']]))
    const bindings = script.metadata.bindings as { name: string; text?: string }[]
    expect(bindings.find((b) => b.name === 'PDS_MAILER')?.text).toBe('resend')
    expect(bindings.find((b) => b.name === 'PDS_EMAIL_FROM')?.text).toBe('pds@example.com')
    expect(output).toContain('verify the domain of pds@example.com in Resend')
  }, 120_000)
})

describe('npm run deploy preflight', () => {
  it('several accounts: unattended, it names them and asks for one; a missing zone is explained', async () => {
    const other = await startCloudflareStandIn({
      accounts: [
        { id: '1'.repeat(32), name: 'Home' },
        { id: '2'.repeat(32), name: 'Work' },
      ],
      zones: [{ name: 'example.org', accountId: '2'.repeat(32) }],
    })
    try {
      const several = await deploy(['--dry-run'], { CLOUDFLARE_API_BASE_URL: other.apiBaseUrl })
      expect(several.code).toBe(1)
      expect(several.output).toContain(
        `several accounts (${'1'.repeat(32)} (Home), ${'2'.repeat(32)} (Work)): pass --account-id or CLOUDFLARE_ACCOUNT_ID`,
      )
      const noZone = await deploy(['--dry-run', '--account-id', '2'.repeat(32)], {
        CLOUDFLARE_API_BASE_URL: other.apiBaseUrl,
      })
      expect(noZone.code).toBe(1)
      expect(noZone.output).toContain('no zone on this Cloudflare account holds pds.example.com')
      expect(other.calls.filter((c) => c.method !== 'GET')).toEqual([])
    } finally {
      await other.close()
    }
  }, 60_000)

  it('refused credentials are a clear error', async () => {
    const { code, output } = await deploy(['--dry-run'], { CLOUDFLARE_API_TOKEN: 'wrong' })
    expect(code).toBe(1)
    expect(output).toMatch(/Cloudflare refused the credentials/)
  }, 60_000)
})
