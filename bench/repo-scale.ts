/**
 * Write cost as a repository grows: the account object's commit path (src/account, the same
 * code the Durable Object runs) on Node's SQLite, with the derived stores stubbed out, at
 * 1,000, 10,000 and 100,000 records. For each size it reports, per single-record write: blocks
 * read from storage, blocks written, and time — warm (the object already in memory) and cold
 * (a fresh object over the same storage).
 *
 *   npm run bench:repo-scale
 */
import { DatabaseSync } from 'node:sqlite'
import { Account } from '../src/account/account.ts'
import type { AccountSinks } from '../src/account/sinks.ts'
import type { PreparedWrite } from '../src/account/types.ts'
import { decryptPrivateKey, encryptPrivateKey } from '../src/auth/index.ts'
import { Secp256k1Keypair } from '../src/crypto/index.ts'
import { encodeCborBlock } from '../src/data/cbor.ts'
import type { SqlCursorLike, SqlRow, SqlStorageLike } from '../src/storage/sql.ts'
import { nextTid } from '../src/syntax/index.ts'

const SIZES = [1_000, 10_000, 100_000]
const SAMPLES = 200
const SECRET = 'bench-secret'

/** ctx.storage's SQL surface over node:sqlite, counting block inserts. */
class NodeSqlStorage implements SqlStorageLike {
  readonly db = new DatabaseSync(':memory:')
  blockInserts = 0
  readonly sql = {
    exec: <T extends SqlRow>(query: string, ...bindings: unknown[]): SqlCursorLike<T> => {
      if (query.includes('INSERT OR IGNORE INTO block')) this.blockInserts++
      const statement = this.db.prepare(query)
      const trimmed = query.trimStart().toUpperCase()
      const returnsRows = trimmed.startsWith('SELECT') || /\bRETURNING\b/i.test(query)
      const params = bindings.map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : b))
      let rows: Record<string, unknown>[] = []
      if (returnsRows) rows = statement.all(...(params as never[])) as Record<string, unknown>[]
      else statement.run(...(params as never[]))
      const converted = rows.map((row) => {
        const out: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(row)) {
          out[k] = v instanceof Uint8Array ? v.slice().buffer : v
        }
        return out as T
      })
      return {
        toArray: () => converted,
        one: () => {
          if (converted.length !== 1) throw new Error(`expected one row, got ${converted.length}`)
          return converted[0]!
        },
        [Symbol.iterator]: () => converted[Symbol.iterator](),
      }
    },
  }

  transactionSync<T>(fn: () => T): T {
    this.db.exec('BEGIN')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }
}

const sinks: AccountSinks = {
  index: { applyCommits: async () => {}, deleteRepo: async () => {} },
  sequencer: { appendEvents: async () => 1 },
  archive: { putCommit: async () => {}, deleteRepo: async () => {} },
}

function account(storage: NodeSqlStorage): Account {
  return new Account({
    storage,
    sinks,
    setAlarm: () => {},
    wipe: async () => {},
    decryptSigningKey: (encrypted, did) => decryptPrivateKey(encrypted, SECRET, did),
  })
}

async function postWrite(i: number): Promise<PreparedWrite> {
  const block = await encodeCborBlock({
    $type: 'app.bsky.feed.post',
    text: `post number ${i}`,
    createdAt: new Date().toISOString(),
  })
  return {
    action: 'create',
    collection: 'app.bsky.feed.post',
    rkey: nextTid(),
    record: block.bytes,
    cid: block.cid.toString(),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

const storage = new NodeSqlStorage()
const did = 'did:plc:benchreposcale000000000000'
const key = await Secp256k1Keypair.create()
let warm = account(storage)
await warm.createRepo({
  did,
  handle: 'bench.test',
  signingKey: await encryptPrivateKey(key.exportPrivateKey(), SECRET, did),
})

let count = 0
const rows: string[] = []
for (const size of SIZES) {
  while (count < size) {
    const n = Math.min(200, size - count)
    await warm.applyWrites({
      writes: await Promise.all(Array.from({ length: n }, (_, i) => postWrite(count + i))),
    })
    count += n
  }
  for (const mode of ['warm', 'cold'] as const) {
    const reads: number[] = []
    const writes: number[] = []
    const times: number[] = []
    for (let s = 0; s < SAMPLES; s++) {
      if (mode === 'cold') warm = account(storage)
      const write = await postWrite(count)
      const readsBefore = warm.blocks.reads
      const insertsBefore = storage.blockInserts
      const started = performance.now()
      await warm.applyWrites({ writes: [write] })
      times.push(performance.now() - started)
      reads.push(warm.blocks.reads - readsBefore)
      writes.push(storage.blockInserts - insertsBefore)
      count++
    }
    rows.push(
      `| ${count.toLocaleString('en-US').padStart(8)} | ${mode} | ${median(reads)} | ${median(writes)} | ${median(times).toFixed(2)} ms |`,
    )
  }
  console.log(`built ${count} records`)
}

console.log('\n| records | object | blocks read | blocks written | time (p50) |')
console.log('|---|---|---|---|---|')
for (const row of rows) console.log(row)
