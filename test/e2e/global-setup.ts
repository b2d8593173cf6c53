/**
 * Starts the PDS the way a developer does (`scripts/dev.mjs`: wrangler dev + the local PLC
 * directory), on free ports with a fresh state folder, for the end-to-end tests to drive with
 * the official client.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

const root = fileURLToPath(new URL('../..', import.meta.url))

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pdsPort, plcPort] = [await freePort(), await freePort()]
  const stateDir = mkdtempSync(join(tmpdir(), 'edge-pds-e2e-'))
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
      PDS_VALIDATE_RESPONSES: 'true',
    },
  })
  child.stdout?.on('data', (chunk) => output.push(String(chunk)))
  child.stderr?.on('data', (chunk) => output.push(String(chunk)))

  const pdsUrl = `http://localhost:${pdsPort}`
  try {
    await waitForHealth(`${pdsUrl}/xrpc/_health`, child, 90_000)
  } catch (err) {
    stop(child)
    throw new Error(`the PDS did not start: ${(err as Error).message}\n${output.join('')}`)
  }
  project.provide('pdsUrl', pdsUrl)
  project.provide('plcUrl', `http://localhost:${plcPort}`)
  return async () => {
    stop(child)
    await new Promise((resolve) => setTimeout(resolve, 500))
    rmSync(stateDir, { recursive: true, force: true })
  }
}

function stop(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    child.kill('SIGTERM')
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

function freePort(): Promise<number> {
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
