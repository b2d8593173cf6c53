/**
 * Write cost as a repository grows: the account object's commit path (src/account, the same
 * code the Durable Object runs) on Node's SQLite, with the derived stores stubbed out, at
 * 1,000, 10,000 and 100,000 records. For each size it reports, per single-record write: blocks
 * read from storage, blocks written, and time — warm (the object already in memory) and cold
 * (a fresh object over the same storage).
 *
 *   npm run bench:repo-scale
 */
import { Account } from '../src/account/account.ts'
import type { AccountSinks } from '../src/account/sinks.ts'
import type { PreparedWrite } from '../src/account/types.ts'
import { decryptPrivateKey, encryptPrivateKey } from '../src/auth/index.ts'
import { Secp256k1Keypair } from '../src/crypto/index.ts'
import { encodeCborBlock } from '../src/data/cbor.ts'
import { nextTid } from '../src/syntax/index.ts'
import { NodeSqlStorage } from '../test/helpers/node-sql-storage.ts'

const SIZES = [1_000, 10_000, 100_000]
const SAMPLES = 200
const SECRET = 'bench-secret'

const sinks: AccountSinks = {
  index: {
    applyCommits: async () => null,
    deleteRepo: async () => {},
    pruneBefore: async () => {},
  },
  sequencer: { appendEvents: async () => 1 },
  archive: { putSegment: async () => {}, deleteRepo: async () => {}, deleteBefore: async () => {} },
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
