/**
 * Starts the local PLC directory (scripts/plc-server.mjs) on a free port for one test file,
 * with its operation log in a fresh temporary directory unless a data file is given.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface PlcServerHandle {
  /** `http://localhost:<port>` */
  url: string
  port: number
  dataFile: string | null
  /** Operations read back from the data file at start. */
  replayed: number
  close(): Promise<void>
}

export interface StartPlcServerOptions {
  port?: number
  /** JSON-lines operation log; null keeps the directory in memory only. */
  dataFile?: string | null
  log?: (line: string) => void
}

interface PlcServerModule {
  startPlcServer(opts?: StartPlcServerOptions): Promise<PlcServerHandle>
}

export interface TestPlc extends PlcServerHandle {
  /** Stops the directory and starts it again on the same port and data file. */
  restart(): Promise<TestPlc>
  /** Stops the directory and deletes the temporary data directory it created. */
  cleanup(): Promise<void>
}

const scriptUrl = new URL('../../scripts/plc-server.mjs', import.meta.url).href

export async function startPlcServer(opts: StartPlcServerOptions = {}): Promise<PlcServerHandle> {
  const mod = (await import(scriptUrl)) as PlcServerModule
  return mod.startPlcServer(opts)
}

/** A directory on a free port, logging to a temporary file that `cleanup()` removes. */
export async function startTestPlc(opts: { dataFile?: string } = {}): Promise<TestPlc> {
  const tempDir = opts.dataFile ? null : mkdtempSync(join(tmpdir(), 'plc-test-'))
  const dataFile = opts.dataFile ?? join(tempDir!, 'operations.jsonl')
  const wrap = (server: PlcServerHandle): TestPlc => ({
    ...server,
    restart: async () => {
      await server.close()
      return wrap(await startPlcServer({ port: server.port, dataFile }))
    },
    cleanup: async () => {
      await server.close()
      if (tempDir) rmSync(tempDir, { recursive: true, force: true })
    },
  })
  return wrap(await startPlcServer({ port: 0, dataFile }))
}
