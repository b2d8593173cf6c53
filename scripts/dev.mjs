// `npm run dev`: a complete local PDS with no Cloudflare account and no internet.
// - writes .dev.vars (local secrets) once,
// - applies the D1 migrations to the local database,
// - starts a local PLC directory on http://localhost:2582 (its operations persisted under
//   .wrangler/state/plc, so DIDs survive restarts like the rest of the local state),
// - runs `wrangler dev` on http://localhost:2583 with local D1/R2/Durable Object state
//   under .wrangler/state (kept across restarts); GET /__scheduled runs the cron jobs now.
// Environment: PDS_PORT, PLC_PORT, PDS_STATE_DIR (another state folder, e.g. for tests),
// INSPECTOR_PORT (the devtools port; 0 for any free one), and any PDS_* setting of src/config.ts, passed through to the Worker (PDS_PLC_URL: use that PLC
// directory instead of starting one).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startPlcServer } from './plc-server.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

const PDS_PORT = Number(process.env.PDS_PORT ?? 2583)
const PLC_PORT = Number(process.env.PLC_PORT ?? 2582)
const STATE_DIR = process.env.PDS_STATE_DIR ?? null
const persistArgs = STATE_DIR ? ['--persist-to', STATE_DIR] : []
// wrangler takes 9229 for devtools when it looks free: two instances started at the same
// moment both see it free and one fails with "Address already in use". 0 lets the system pick.
const inspectorArgs = process.env.INSPECTOR_PORT
  ? ['--inspector-port', process.env.INSPECTOR_PORT]
  : []

/** Settings for local development, passed as `--var` so they never reach a deployment. */
const devVars = {
  PDS_HOSTNAME: 'localhost',
  PDS_PUBLIC_URL: `http://localhost:${PDS_PORT}`,
  PDS_PLC_URL: `http://localhost:${PLC_PORT}`,
  PDS_CRAWLERS: 'none',
  PDS_DEV_MODE: 'true',
  // Mail stays local: shown at /dev/mailbox and its codes printed here.
  PDS_MAILER: 'dev',
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => key.startsWith('PDS_') && !['PDS_PORT', 'PDS_STATE_DIR'].includes(key),
    ),
  ),
}

ensureDevSecrets('.dev.vars')

// Nothing leaves this machine: cli/shared/wrangler.ts's OFFLINE_WRANGLER_ENV (this file is
// plain JavaScript and cannot import it), and no local observability traces.
const quiet = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  X_LOCAL_OBSERVABILITY: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
}
// Run wrangler's own entry on this Node (>= 22), skipping npx's start-up cost.
const wranglerBin = fileURLToPath(
  new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url),
)
const wrangler = (args, opts = {}) =>
  spawnSync(process.execPath, [wranglerBin, ...args], { stdio: 'inherit', env: quiet, ...opts })

const migrate = wrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...persistArgs], {
  env: { ...quiet, CI: 'true' },
})
if (migrate.status !== 0) process.exit(migrate.status ?? 1)

// PDS_PLC_URL names a directory that runs elsewhere (e.g. another local PDS's, so that two
// instances share one, as the migration tests do): then none is started here.
const plc = process.env.PDS_PLC_URL
  ? { close: async () => {} }
  : await startPlcServer({
      port: PLC_PORT,
      ...(STATE_DIR ? { dataFile: `${STATE_DIR}/plc/operations.jsonl` } : {}),
    })
if (plc.url) console.log(`PLC directory on ${plc.url} (${plc.replayed} operations restored)`)

const varArgs = Object.entries(devVars).flatMap(([k, v]) => ['--var', `${k}:${v}`])
const child = spawn(
  process.execPath,
  [
    wranglerBin,
    'dev',
    '--port',
    String(PDS_PORT),
    '--ip',
    '127.0.0.1',
    '--show-interactive-dev-session=false',
    // GET /__scheduled runs the Cron Trigger's jobs now (the e2e tests use it; local only).
    '--test-scheduled',
    '--log-level',
    process.env.WRANGLER_LOG ?? 'warn',
    ...persistArgs,
    ...inspectorArgs,
    ...varArgs,
  ],
  { stdio: 'inherit', env: quiet },
)
console.log(`PDS starting on http://localhost:${PDS_PORT}`)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal))
}
child.on('exit', async (code) => {
  await plc.close()
  process.exit(code ?? 0)
})

/**
 * Local secrets, generated once and kept (gitignored) so sessions survive restarts, and dev
 * mode, which a plain `wrangler dev` also needs: without it the Worker refuses to serve until
 * it is configured for a deployment.
 */
function ensureDevSecrets(path) {
  const wanted = {
    PDS_DEV_MODE: () => 'true',
    PDS_JWT_SECRET: () => randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: () => randomBytes(16).toString('hex'),
    PDS_PLC_ROTATION_KEY: () => randomBytes(32).toString('hex'),
    PDS_KEY_ENCRYPTION_SECRET: () => randomBytes(32).toString('hex'),
  }
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const missing = Object.keys(wanted).filter((k) => !new RegExp(`^${k}=`, 'm').test(existing))
  if (missing.length === 0) return
  const lines = missing.map((k) => `${k}=${wanted[k]()}`)
  const header = existing
    ? ''
    : '# Local development settings and secrets, generated by npm run dev.\n'
  writeFileSync(
    path,
    `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${header}${lines.join('\n')}\n`,
  )
  console.log(`Wrote local secrets to ${path} (admin password: PDS_ADMIN_PASSWORD there).`)
}
