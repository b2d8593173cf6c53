/**
 * importRepo at scale: a 100,000-record repo (about 50 MB of CAR) moves into a local PDS.
 *
 * Starts the PDS as a developer does (scripts/dev.mjs: wrangler dev, local D1/R2/DOs, a local
 * PLC directory), creates an account for an existing DID (deactivated, as a migration does),
 * builds the repo here with our own MST code (posts of a few hundred bytes, likes and follows;
 * signed with the DID's old key), writes it to a temporary file and streams it to importRepo
 * with a Content-Length, reading the file as the socket drains. Meanwhile the resident memory
 * of every workerd process of the server is sampled every 20 ms.
 *
 * What the memory figures measure: locally the Worker and the account's Durable Object run in
 * one workerd process (with the D1, R2 and SQLite simulators), so the peak is that of the whole
 * process, Worker and object together, over its resident size before the import; on Cloudflare
 * they are separate isolates with 128 MB each. V8 collects lazily, so garbage awaiting
 * collection counts too. The result is checked with checkAccountStatus: the head, the blocks
 * and the number of records indexed in D1.
 *
 *   npm run bench:import   (IMPORT_BENCH_RECORDS=100000)
 */
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeCborBlock } from '../src/data/cbor.ts'
import { MemoryBlockStore } from '../src/repo/block-store.ts'
import { encodeCarBytes } from '../src/repo/car.ts'
import { commitToBlock, signCommit } from '../src/repo/commit.ts'
import { Mst } from '../src/repo/mst/index.ts'
import { nextTid } from '../src/syntax/index.ts'
import { startDevServer } from '../test/e2e/dev-server.ts'
import { createMigratingAccount } from '../test/helpers/migrating-account.ts'
import { findDescendants, readMemory } from './processes.ts'

const MIB = 1024 * 1024
const RECORDS = Number(process.env.IMPORT_BENCH_RECORDS ?? 100_000)
const WORDS = 'the of and to in is was for on that with as by at from his her it an were are'
  .split(' ')
  .concat('repository migration personal data server relay firehose record commit'.split(' '))

function postText(i: number): string {
  const words: string[] = []
  let length = 0
  let seed = i * 2_654_435_761
  while (length < 280 + (i % 120)) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0
    const word = WORDS[seed % WORDS.length]!
    words.push(word)
    length += word.length + 1
  }
  return words.join(' ')
}

function record(did: string, i: number): { collection: string; value: Record<string, unknown> } {
  const createdAt = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()
  if (i % 10 < 6) {
    return {
      collection: 'app.bsky.feed.post',
      value: { $type: 'app.bsky.feed.post', text: postText(i), langs: ['en'], createdAt },
    }
  }
  if (i % 10 < 9) {
    return {
      collection: 'app.bsky.feed.like',
      value: {
        $type: 'app.bsky.feed.like',
        subject: {
          uri: `at://${did}/app.bsky.feed.post/3l${String(i).padStart(11, 'a')}`,
          cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
        },
        createdAt,
      },
    }
  }
  return {
    collection: 'app.bsky.graph.follow',
    value: { $type: 'app.bsky.graph.follow', subject: `did:plc:follow${i}`, createdAt },
  }
}

/** The repo as one CAR file; returns its path, size and build time. */
async function buildRepo(
  did: string,
  key: Parameters<typeof signCommit>[1],
  dir: string,
): Promise<{ path: string; bytes: number; ms: number }> {
  const started = performance.now()
  const store = new MemoryBlockStore()
  let mst = Mst.create(store)
  let rev: string | null = null
  for (let i = 0; i < RECORDS; i++) {
    const { collection, value } = record(did, i)
    const block = await encodeCborBlock(value)
    store.put(block.cid, block.bytes)
    rev = nextTid(rev)
    mst = await mst.add(`${collection}/${rev}`, block.cid)
    // Nodes are stored as they are made, so each add works on a small new part.
    if (i % 1000 === 999) {
      store.putMany(await mst.collectNewBlocks())
      mst.markStored()
    }
  }
  store.putMany(await mst.collectNewBlocks())
  const commit = await signCommit(
    { did, version: 3, data: await mst.rootCid(), rev: nextTid(rev), prev: null },
    key,
  )
  const commitBlock = await commitToBlock(commit)
  store.put(commitBlock.cid, commitBlock.bytes)
  const blocks = [commitBlock]
  for await (const node of mst.walkNodes()) {
    blocks.push({ cid: node.cid, bytes: node.bytes })
    for (const { value } of node.entries)
      blocks.push({ cid: value, bytes: (await store.get(value))! })
  }
  const car = await encodeCarBytes(commitBlock.cid, blocks)
  const path = join(dir, 'repo.car')
  writeFileSync(path, car)
  return { path, bytes: car.length, ms: performance.now() - started }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-pds-import-'))
  const server = await startDevServer()
  try {
    const account = await createMigratingAccount(server.pdsUrl, server.plcUrl, 'bench')
    console.log(`building a ${RECORDS.toLocaleString('en')}-record repo for ${account.did}...`)
    const car = await buildRepo(account.did, account.key, dir)
    console.log(`  ${(car.bytes / MIB).toFixed(1)} MiB CAR in ${(car.ms / 1000).toFixed(1)} s`)
    const pids = findDescendants(server.pid, 'workerd')
    if (pids.length === 0) throw new Error('no workerd process found')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const before = rss(pids)
    const initial = await accountStatus(server.pdsUrl, account.accessJwt)
    const phases = watchPhases(server.pdsUrl, account.accessJwt, pids, initial.repoRev)
    const started = performance.now()
    const res = await upload(`${server.pdsUrl}/xrpc/com.atproto.repo.importRepo`, account, car)
    const ms = performance.now() - started
    const { switchedAt, peakBefore, peakAfter } = await phases.stop()
    if (res.status !== 200) throw new Error(`importRepo: ${res.status} ${res.body}`)
    const checked = await accountStatus(server.pdsUrl, account.accessJwt)
    if (checked.indexedRecords !== RECORDS) {
      throw new Error(`indexed ${String(checked.indexedRecords)} records, not ${RECORDS}`)
    }
    const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`
    const switched = switchedAt === null ? ms : switchedAt - started
    console.log(`\nimportRepo of ${RECORDS.toLocaleString('en')} records, ${mb(car.bytes)} CAR\n`)
    console.log(`  total                                   ${seconds(ms)}`)
    console.log(`  body streamed, staged, checked, swapped ${seconds(switched)}`)
    console.log(`  then the D1 index                       ${seconds(ms - switched)}`)
    console.log(
      `  workerd RSS before                      ${mb(before)} (${pids.length} processes)`,
    )
    console.log(
      `  peak until the switch-over              ${mb(peakBefore)} (+${mb(peakBefore - before)})`,
    )
    console.log(
      `  peak during the D1 index                ${mb(peakAfter)} (+${mb(peakAfter - before)})`,
    )
    console.log(`  repo blocks held                        ${String(checked.repoBlocks)}`)
    console.log(`  records indexed in D1                   ${String(checked.indexedRecords)}`)
  } finally {
    await server.stop()
    server.removeState()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** POSTs the file with its length, reading it as the socket drains. */
function upload(
  url: string,
  account: { accessJwt: string },
  car: { path: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.accessJwt}`,
        'content-type': 'application/vnd.ipld.car',
        'content-length': String(statSync(car.path).size),
      },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    createReadStream(car.path, { highWaterMark: MIB }).pipe(req)
  })
}

async function accountStatus(base: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/xrpc/com.atproto.server.checkAccountStatus`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return (await res.json()) as Record<string, unknown>
}

/**
 * Samples RSS every 20 ms and the account's head every second: the head changes at the
 * switch-over, which splits the import into its two phases (the body, staging and the check;
 * then the D1 index).
 */
function watchPhases(base: string, token: string, pids: number[], firstRev: unknown) {
  let switchedAt: number | null = null
  let peakBefore = rss(pids)
  let peakAfter = 0
  const memory = setInterval(() => {
    const now = rss(pids)
    if (switchedAt === null) peakBefore = Math.max(peakBefore, now)
    else peakAfter = Math.max(peakAfter, now)
  }, 20)
  let polling = true
  const poll = (async () => {
    while (polling && switchedAt === null) {
      const rev = (await accountStatus(base, token)).repoRev
      if (rev !== firstRev) switchedAt = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  })()
  return {
    async stop() {
      polling = false
      clearInterval(memory)
      await poll
      return { switchedAt, peakBefore, peakAfter: Math.max(peakAfter, rss(pids)) }
    },
  }
}

function rss(pids: number[]): number {
  return (readMemory(pids)?.rssMb ?? 0) * MIB
}

function mb(bytes: number): string {
  return `${(bytes / MIB).toFixed(0)} MiB`
}

await main()
