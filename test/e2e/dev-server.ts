/**
 * Starts and stops the PDS the way a developer does (`scripts/dev.mjs`: wrangler dev + the
 * local PLC directory) for the end-to-end tests: on free ports, with a state folder that a
 * restart can reuse, and any extra `PDS_*` settings.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface DevServerOptions {
  /** Reuse a state folder (a restart); a fresh temporary one by default. */
  stateDir?: string
  /** Fixed ports (a restart keeps the URLs that DID documents name); free ones by default. */
  pdsPort?: number
  plcPort?: number
  /** Extra environment, e.g. `PDS_*` settings passed to the Worker. */
  env?: Record<string, string>
  startTimeoutMs?: number
}

export interface DevServer {
  /** The process group leader (scripts/dev.mjs); its descendants include workerd. */
  pid: number
  pdsUrl: string
  plcUrl: string
  pdsPort: number
  plcPort: number
  stateDir: string
  /** Stops the server and waits until it has exited (its ports are free again). */
  stop(): Promise<void>
  /** Removes the state folder. */
  removeState(): void
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const pdsPort = opts.pdsPort ?? (await freePort())
  const plcPort = opts.plcPort ?? (await freePort())
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'edge-pds-e2e-'))
  const output: string[] = []
  const child = spawn(process.execPath, [join(root, 'scripts/dev.mjs')], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PDS_PORT: String(pdsPort),
      PLC_PORT: String(plcPort),
      PDS_STATE_DIR: stateDir,
      // Any free devtools port: several servers may start at once (scripts/dev.mjs).
      INSPECTOR_PORT: '0',
      ...opts.env,
    },
  })
  child.stdout?.on('data', (chunk) => output.push(String(chunk)))
  child.stderr?.on('data', (chunk) => output.push(String(chunk)))

  const pdsUrl = `http://localhost:${pdsPort}`
  try {
    await waitForHealth(`${pdsUrl}/xrpc/_health`, child, opts.startTimeoutMs ?? 90_000)
  } catch (err) {
    await stopChild(child)
    throw new Error(`the PDS did not start: ${(err as Error).message}\n${output.join('')}`)
  }
  return {
    pid: child.pid!,
    pdsUrl,
    plcUrl: `http://localhost:${plcPort}`,
    pdsPort,
    plcPort,
    stateDir,
    stop: () => stopChild(child),
    removeState: () => rmSync(stateDir, { recursive: true, force: true }),
  }
}

/**
 * Runs the Worker's Cron Trigger now, at a chosen scheduled time. The time is moved off the
 * hourly slot in which the plain requestCrawl refresh (src/sync/crawl-job.ts) also runs, so that
 * the requests a relay sees come from the other jobs.
 *
 * Miniflare's own trigger route is used, not wrangler's `/__scheduled` (scripts/dev.mjs
 * enables that one for people): `/__scheduled` ignores `?time=` and runs at the wall clock, so
 * a test that ran in the first ten minutes of an hour saw the refresh's request too.
 */
export async function runCronNow(server: DevServer): Promise<void> {
  const slot = 10 * 60_000
  let time = Date.now()
  if (Math.floor(time / slot) % 6 === 0) time += slot
  const res = await fetch(`${server.pdsUrl}/cdn-cgi/local/scheduled?time=${time}`)
  const outcome = await res.text()
  if (res.status !== 200) throw new Error(`the scheduled run answered ${res.status}: ${outcome}`)
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  signal(child, 'SIGTERM')
  const timer = setTimeout(() => signal(child, 'SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
  // The dev script's children (workerd, the PLC server) leave with it; give the OS a moment
  // to release their ports.
  await new Promise((resolve) => setTimeout(resolve, 500))
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    // The whole process group: the dev script, wrangler and workerd.
    process.kill(-(child.pid as number), name)
  } catch {
    child.kill(name)
  }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dev server exited with ${child.exitCode}`)
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`)
}
