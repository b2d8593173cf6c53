// A local PLC directory for development and tests: @did-plc/server with its in-memory
// database, made durable by logging every accepted operation to a JSON-lines file and
// replaying the file at start.
//
//   node scripts/plc-server.mjs          (PLC_PORT, default 2582; PLC_DATA_FILE, default
//                                          .wrangler/state/plc/operations.jsonl)
//
// From Node: `const plc = await startPlcServer({ port: 0, dataFile })` → `{ url, port, close }`.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Database, PlcServer } from '@did-plc/server'

const projectRoot = fileURLToPath(new URL('..', import.meta.url))
export const DEFAULT_PLC_PORT = 2582
export const DEFAULT_PLC_DATA_FILE = resolve(projectRoot, '.wrangler/state/plc/operations.jsonl')

/**
 * Starts the directory on 127.0.0.1 (and on ::1 when the machine has it, so that `localhost`
 * works whichever way it resolves).
 * @param {{ port?: number, dataFile?: string | null, log?: (line: string) => void }} [opts]
 *   `port: 0` picks a free port; `dataFile: null` keeps everything in memory.
 * @returns {Promise<{ url: string, port: number, dataFile: string | null, replayed: number, close: () => Promise<void> }>}
 */
export async function startPlcServer(opts = {}) {
  const port = opts.port ?? DEFAULT_PLC_PORT
  const dataFile = opts.dataFile === null ? null : resolve(opts.dataFile ?? DEFAULT_PLC_DATA_FILE)
  const log = opts.log ?? (() => {})

  const db = Database.mock()
  const replayed = dataFile ? await replayOperations(db, dataFile, log) : 0
  if (dataFile) persistOperations(db, dataFile)

  const plc = PlcServer.create({ db, port })
  const servers = [await listen(plc.app, port, '127.0.0.1')]
  const boundPort = servers[0].address().port
  try {
    servers.push(await listen(plc.app, boundPort, '::1'))
  } catch (err) {
    // No IPv6 loopback here (or the port is taken there): 127.0.0.1 alone serves `localhost`.
    log(`PLC directory not listening on [::1]:${boundPort} (${err.code ?? err.message})`)
  }

  return {
    url: `http://localhost:${boundPort}`,
    port: boundPort,
    dataFile,
    replayed,
    close: async () => {
      await Promise.all(servers.map(closeServer))
      await db.close()
    },
  }
}

/** Re-adds logged operations through the directory's own validation, in their original order. */
async function replayOperations(db, dataFile, log) {
  if (!existsSync(dataFile)) return 0
  const lines = readFileSync(dataFile, 'utf8').split('\n')
  const timestamps = []
  let count = 0
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue
    let entry
    try {
      entry = JSON.parse(line)
    } catch {
      // A crash mid-append leaves a partial last line; anything else is worth a warning.
      if (index < lines.length - 1) log(`${dataFile}:${index + 1}: unreadable line skipped`)
      continue
    }
    try {
      await db.validateAndAddOp(entry.did, entry.operation)
    } catch (err) {
      log(`${dataFile}:${index + 1}: operation for ${entry.did} rejected on replay: ${err.message}`)
      continue
    }
    count++
    if (entry.createdAt) timestamps.push([db.contents[entry.did].at(-1), new Date(entry.createdAt)])
  }
  // Original timestamps go back only now: the directory measures its 72-hour recovery window
  // against the clock, so replaying a recovery with old timestamps in place could fail.
  for (const [indexed, createdAt] of timestamps) {
    if (!Number.isNaN(createdAt.getTime())) indexed.createdAt = createdAt
  }
  return count
}

/** Appends each operation the directory accepts, before the HTTP response goes out. */
function persistOperations(db, dataFile) {
  mkdirSync(dirname(dataFile), { recursive: true })
  const validateAndAddOp = db.validateAndAddOp.bind(db)
  db.validateAndAddOp = async (did, operation) => {
    await validateAndAddOp(did, operation)
    const indexed = db.contents[did]?.findLast((entry) => entry.operation === operation)
    const createdAt = (indexed?.createdAt ?? new Date()).toISOString()
    appendFileSync(dataFile, `${JSON.stringify({ did, operation, createdAt })}\n`)
  }
}

function listen(app, port, host) {
  return new Promise((resolvePromise, reject) => {
    const server = createServer(app)
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolvePromise(server)
    })
  })
}

function closeServer(server) {
  return new Promise((resolvePromise) => {
    server.close(() => resolvePromise())
    // Keep-alive connections (Node's fetch keeps them) would otherwise hold close() open.
    server.closeAllConnections()
  })
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href
if (isMain) {
  const port = Number(process.env.PLC_PORT ?? DEFAULT_PLC_PORT)
  const plc = await startPlcServer({
    port,
    dataFile: process.env.PLC_DATA_FILE ?? DEFAULT_PLC_DATA_FILE,
    log: (line) => console.warn(line),
  })
  console.log(
    `PLC directory on ${plc.url} (${plc.replayed} operations replayed from ${plc.dataFile})`,
  )
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      plc.close().then(() => process.exit(0))
    })
  }
}
