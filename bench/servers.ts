/**
 * The three servers the bench drives, each on loopback with fresh state and its own local PLC
 * directory, rate limits off:
 * - `reference`: @atproto/pds (bench/node_modules) in a child Node process;
 * - `direct`: our Worker bundle in workerd through Miniflare's own HTTP socket (no wrangler proxy);
 * - `dev`: `npm run dev`'s script (wrangler dev), what a developer sees.
 */
import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  convertV4MiniflareOptions,
  Log,
  LogLevel,
  Miniflare,
  type V4MiniflareOptions,
} from 'miniflare'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'
import { OFFLINE_WRANGLER_ENV, wranglerBin } from '../cli/shared/wrangler.ts'
import { startPlcServer } from '../test/helpers/plc.ts'
import {
  findChildren,
  findDescendants,
  freePort,
  spawnGroup,
  stopGroup,
  waitForHealth,
} from './processes.ts'

export type ServerKind = 'reference' | 'direct' | 'dev'

export interface BenchServer {
  kind: ServerKind
  /** Base URL the client uses (127.0.0.1, no name lookups). */
  url: string
  /** The processes whose memory is the server's (the PDS process; workerd for ours). */
  memoryPids(): number[]
  /** Errors the server printed, for the report when something fails. */
  log(): string
  /** The keys of an account's R2 archive (ours in workerd only: its local R2 is at hand). */
  archiveKeys?(did: string): Promise<string[]>
  stop(): Promise<void>
}

const rootDir = fileURLToPath(new URL('..', import.meta.url))
const benchDir = fileURLToPath(new URL('.', import.meta.url))

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

/** Our Worker's settings for the bench: those of `npm run dev`, with rate limits off. */
function ourVars(port: number, plcUrl: string): Record<string, string> {
  return {
    PDS_HOSTNAME: 'localhost',
    PDS_PUBLIC_URL: `http://localhost:${port}`,
    PDS_PLC_URL: plcUrl,
    PDS_CRAWLERS: 'none',
    PDS_DEV_MODE: 'true',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_JWT_SECRET: hex(32),
    PDS_ADMIN_PASSWORD: hex(16),
    PDS_PLC_ROTATION_KEY: hex(32),
    PDS_KEY_ENCRYPTION_SECRET: hex(32),
  }
}

const quietEnv = (): NodeJS.ProcessEnv => ({
  ...withoutPdsVars(process.env),
  ...OFFLINE_WRANGLER_ENV,
  X_LOCAL_OBSERVABILITY: 'false',
})

function withoutPdsVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('PDS_')))
}

export interface ReferenceOptions {
  /** A PLC directory to share (the migration tests); by default one of its own. */
  plcUrl?: string
  /** More `PDS_*` settings (e.g. `PDS_BLOB_UPLOAD_LIMIT`: the reference's default is 5 MB). */
  env?: Record<string, string>
}

/** The reference PDS on `node` (see reference-install.ts for why it is not this Node). */
export async function startReference(
  node: string,
  opts: ReferenceOptions = {},
): Promise<BenchServer & { port: number; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-pds-bench-ref-'))
  mkdirSync(join(dir, 'data'))
  mkdirSync(join(dir, 'blobs'))
  const plc = opts.plcUrl
    ? { url: opts.plcUrl, close: async () => {} }
    : await startPlcServer({ port: 0, dataFile: null })
  const port = await freePort()
  const { child, output } = spawnGroup(node, [join(benchDir, 'reference-server.mjs')], {
    cwd: benchDir,
    env: {
      ...withoutPdsVars(process.env),
      NODE_ENV: 'production',
      LOG_ENABLED: 'false',
      BENCH_REFERENCE_VALIDATE_RESPONSES: 'false',
      PDS_HOSTNAME: 'localhost',
      PDS_PORT: String(port),
      PDS_DATA_DIRECTORY: join(dir, 'data'),
      PDS_BLOBSTORE_DISK_LOCATION: join(dir, 'blobs'),
      // Its resolver rejects IP literals: the directory by name.
      PDS_DID_PLC_URL: plc.url,
      PDS_DEV_MODE: 'true',
      PDS_INVITE_REQUIRED: 'false',
      PDS_RATE_LIMITS_ENABLED: 'false',
      PDS_JWT_SECRET: hex(32),
      PDS_DPOP_SECRET: hex(32),
      PDS_ADMIN_PASSWORD: hex(16),
      PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(32),
      ...opts.env,
    },
  })
  const url = `http://127.0.0.1:${port}`
  await startOrExplain('reference PDS', url, child, output, async () => {
    await plc.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    kind: 'reference',
    url,
    port,
    dataDir: join(dir, 'data'),
    memoryPids: () => (child.pid ? [child.pid] : []),
    log: () => output.join(''),
    stop: async () => {
      await stopGroup(child)
      await plc.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Our Worker directly in workerd. `inspectorPort` opens workerd's DevTools inspector (for CPU
 * profiles, bench/profile.ts); `vars` adds settings to those of `npm run dev`.
 */
export async function startDirect(
  bundle: string,
  opts: { inspectorPort?: number; vars?: Record<string, string> } = {},
): Promise<BenchServer> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(rootDir, 'wrangler.toml'))
  const stateDir = mkdtempSync(join(tmpdir(), 'edge-pds-bench-direct-'))
  const plc = await startPlcServer({ port: 0, dataFile: null })
  const migrate = spawnSync(
    process.execPath,
    [wranglerBin, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir],
    { cwd: rootDir, env: { ...quietEnv(), CI: 'true' }, encoding: 'utf8' },
  )
  if (migrate.status !== 0) {
    await plc.close()
    rmSync(stateDir, { recursive: true, force: true })
    throw new Error(`D1 migrations failed:\n${migrate.stdout}${migrate.stderr}`)
  }
  const port = await freePort()
  const errors: string[] = []
  const options = {
    host: '127.0.0.1',
    port,
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
    // The same layout as `wrangler dev --persist-to <dir>`, where the migrations went.
    resourcePersistencePath: join(stateDir, 'v3'),
    log: new Log(LogLevel.WARN),
    // No internet: do not fetch the `Request.cf` sample.
    cf: false,
    logRequests: false,
    unsafeObservability: false,
    handleStructuredLogs: (entry: { level: string; message: string }) => {
      if (entry.level === 'error' || entry.level === 'warn') errors.push(entry.message)
    },
    workers: [
      {
        // wrangler.toml's bindings, read by wrangler itself (the same as `wrangler dev` uses).
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        d1Databases: workerOptions.d1Databases,
        r2Buckets: workerOptions.r2Buckets,
        durableObjects: workerOptions.durableObjects,
        kvNamespaces: workerOptions.kvNamespaces,
        name: 'edge-pds',
        rootPath: rootDir,
        modules: true,
        scriptPath: resolve(bundle),
        modulesRoot: dirname(resolve(bundle)),
        bindings: { ...ourVars(port, plc.url), ...opts.vars },
      },
    ],
  } as V4MiniflareOptions
  const url = `http://127.0.0.1:${port}`
  let mf: Miniflare | null = null
  const cleanup = async (): Promise<void> => {
    await mf?.dispose()
    await plc.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
  try {
    mf = new Miniflare(convertV4MiniflareOptions(options))
    await mf.ready
    await waitForHealth(`${url}/xrpc/_health`, 30_000)
  } catch (err) {
    await cleanup()
    throw new Error(`Miniflare did not start: ${(err as Error).message}\n${errors.join('\n')}`)
  }
  return {
    kind: 'direct',
    url,
    // Miniflare runs workerd as a child of this process (wrangler dev's are grandchildren).
    memoryPids: () => findChildren(process.pid, 'workerd'),
    log: () => errors.slice(-50).join('\n'),
    archiveKeys: async (did) => {
      const bucket = await mf!.getR2Bucket('STORAGE')
      const keys: string[] = []
      let cursor: string | undefined
      do {
        const page = await bucket.list({ prefix: `repo/${did}/`, cursor })
        keys.push(...page.objects.map((o) => o.key))
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor)
      return keys
    },
    stop: cleanup,
  }
}

export async function startDev(): Promise<BenchServer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'edge-pds-bench-dev-'))
  const [port, plcPort] = [await freePort(), await freePort()]
  const { child, output } = spawnGroup(process.execPath, [join(rootDir, 'scripts/dev.mjs')], {
    cwd: rootDir,
    env: {
      ...withoutPdsVars(process.env),
      PDS_PORT: String(port),
      PLC_PORT: String(plcPort),
      PDS_STATE_DIR: stateDir,
      INSPECTOR_PORT: '0',
      PDS_RATE_LIMITS_ENABLED: 'false',
    },
  })
  const url = `http://127.0.0.1:${port}`
  await startOrExplain('npm run dev', url, child, output, async () => {
    rmSync(stateDir, { recursive: true, force: true })
  })
  return {
    kind: 'dev',
    url,
    // wrangler dev runs two workerd processes (its proxy and the Worker): both are the cost.
    memoryPids: () => (child.pid ? findDescendants(child.pid, 'workerd') : []),
    log: () => output.join(''),
    stop: async () => {
      await stopGroup(child)
      rmSync(stateDir, { recursive: true, force: true })
    },
  }
}

async function startOrExplain(
  name: string,
  url: string,
  child: ChildProcess,
  output: string[],
  cleanup: () => Promise<void>,
): Promise<void> {
  try {
    await waitForHealth(`${url}/xrpc/_health`, 90_000, child)
  } catch (err) {
    await stopGroup(child)
    await cleanup()
    throw new Error(`${name} did not start: ${(err as Error).message}\n${output.join('')}`)
  }
}
