/**
 * The R2 archive in segments (src/account/archiver.ts): commits read back one by one from the
 * objects that hold several, the number of puts per commit, retries that rewrite the same
 * object, an import's blocks archived and the replaced repo's objects deleted, and account
 * deletion removing everything. Real R2 (miniflare's), real account objects.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { ARCHIVE_MAX_WAIT_MS, SEGMENT_MIN_COMMITS } from '../../src/account/alarm.ts'
import { segmentKey } from '../../src/account/archive.ts'
import {
  listArchive,
  readArchivedCommit,
  readSegmentIndex,
} from '../../src/account/archive-reader.ts'
import { blockSections, encodeSegment } from '../../src/account/archive-segment.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { encodeCborBlock } from '../../src/data/cbor.ts'
import type { CID } from '../../src/data/cid.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { readCar } from '../../src/repo/car.ts'
import { commitToBlock, signCommit } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import { nextTid } from '../../src/syntax/index.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import {
  archivedCommit,
  createTestAccount,
  eventsOf,
  ok,
  outboxSize,
  patchSinks,
  post,
  runAlarmUntilIdle,
  type TestAccount,
} from './account-helpers.ts'

const POSTS = 'app.bsky.feed.post'

async function write(account: TestAccount, rkey: string): Promise<void> {
  ok(
    await account.stub.applyWrites({
      writes: [{ action: 'create', collection: POSTS, rkey, record: post(rkey) }],
    }),
  )
}

/** Runs the object's alarm if it is due, as the runtime would. */
async function runAlarmIfDue(account: TestAccount): Promise<boolean> {
  const at = await runInDurableObject(account.stub, (_i, state) => state.storage.getAlarm())
  if (at === null || at > Date.now()) return false
  await runDurableObjectAlarm(account.stub)
  return true
}

/** Counts the archive's puts on the live object. */
async function countPuts(account: TestAccount): Promise<{ puts: string[] }> {
  const seen = { puts: [] as string[] }
  await patchSinks(account.stub, (sinks) => ({
    archive: {
      ...sinks.archive,
      putSegment: (key, bytes) => {
        seen.puts.push(key)
        return sinks.archive.putSegment(key, bytes)
      },
    },
  }))
  return seen
}

/** Every commit event of the account, as the firehose carried it: rev, commit, blocks. */
async function commitsOf(did: string): Promise<{ rev: string; blocks: Map<string, Uint8Array> }[]> {
  const out = []
  for (const event of await eventsOf(did)) {
    if (event.type !== '#commit') continue
    const car = await readCar(event.body.blocks as Uint8Array)
    out.push({ rev: event.body.rev as string, blocks: car.blocks })
  }
  return out
}

/** The revs each segment's index lists, over the whole archive of `did`. */
async function indexedRevs(did: string): Promise<string[]> {
  const revs: string[] = []
  for (const key of await listArchive(env.STORAGE, did)) {
    const head = await readSegmentIndex(env.STORAGE, key.key)
    revs.push(...head!.index.commits.map((c) => c.rev))
  }
  return revs
}

describe('R2 archive segments', () => {
  it('holds consecutive commits in one object, each read back by its rev', async () => {
    const account = await createTestAccount('segread')
    for (let i = 0; i < 12; i++) await write(account, `r${i}`)
    await runAlarmUntilIdle(account)
    const objects = await listArchive(env.STORAGE, account.did)
    expect(objects.length).toBe(1)

    const commits = await commitsOf(account.did)
    expect(commits.length).toBe(13)
    // The object is a CAR whose root is its index, listing the commits in order.
    const whole = await env.STORAGE.get(objects[0]!.key)
    const car = await readCar(new Uint8Array(await whole!.arrayBuffer()))
    const head = await readSegmentIndex(env.STORAGE, objects[0]!.key)
    expect(head!.index.did).toBe(account.did)
    expect(head!.index.commits.map((c) => c.rev)).toEqual(commits.map((c) => c.rev))
    expect(objects[0]!.firstRev).toBe(commits[0]!.rev)
    expect(objects[0]!.lastRev).toBe(commits.at(-1)!.rev)
    expect(car.roots.length).toBe(1)
    for (const commit of commits) {
      // Each commit's blocks, found by range reads, are exactly those its event carried.
      const archived = await archivedCommit(account.did, commit.rev)
      expect(archived).toEqual(commit.blocks)
      for (const cid of commit.blocks.keys()) expect(car.blocks.has(cid)).toBe(true)
    }
    expect(await readArchivedCommit(env.STORAGE, account.did, nextTid(commits.at(-1)!.rev))).toBe(
      null,
    )
  })

  it('costs at most one put per 20 sequential commits', async () => {
    const account = await createTestAccount('segcount')
    await runAlarmUntilIdle(account)
    const seen = await countPuts(account)
    const commits = 200
    let alarms = 0
    for (let i = 0; i < commits; i++) {
      await write(account, `c${i}`)
      if (await runAlarmIfDue(account)) alarms++
    }
    await runAlarmUntilIdle(account)
    expect(await outboxSize(account.stub)).toBe(0)
    expect(seen.puts.length).toBeGreaterThan(0)
    expect(seen.puts.length).toBeLessThanOrEqual(commits / 20)
    // Every commit is in the archive exactly once.
    const revs = (await commitsOf(account.did)).map((c) => c.rev).slice(1)
    const archived = await indexedRevs(account.did)
    expect(archived.slice(1)).toEqual(revs)
    console.log(`${commits} commits: ${seen.puts.length} puts, ${alarms} alarms while writing`)
  })

  it('waits for company: a lone commit is archived later, a batch soon', async () => {
    const account = await createTestAccount('segwait')
    await runAlarmUntilIdle(account)
    const alarmAt = () => runInDurableObject(account.stub, (_i, state) => state.storage.getAlarm())
    const before = Date.now()
    await write(account, 'lone')
    expect((await alarmAt())! - before).toBeGreaterThanOrEqual(ARCHIVE_MAX_WAIT_MS - 1000)
    for (let i = 0; i < SEGMENT_MIN_COMMITS; i++) await write(account, `b${i}`)
    expect((await alarmAt())! - Date.now()).toBeLessThanOrEqual(1000)
  })

  it('rewrites the same object after a failed put, and never one commit twice', async () => {
    const account = await createTestAccount('segretry')
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    await runAlarmUntilIdle(account)
    let failures = 1
    const puts: string[] = []
    await patchSinks(account.stub, (sinks) => ({
      archive: {
        ...sinks.archive,
        putSegment: async (key, bytes) => {
          puts.push(key)
          // The put lands, but its answer is lost: the object does not know it succeeded.
          await sinks.archive.putSegment(key, bytes)
          if (failures-- > 0) throw new Error('injected R2 failure')
        },
      },
    }))
    for (let i = 0; i < 3; i++) await write(account, `a${i}`)
    await runDurableObjectAlarm(account.stub)
    expect(puts.length).toBe(1)
    expect(await outboxSize(account.stub)).toBe(3)
    // Commits made meanwhile go to the next segment, not into the one being retried.
    for (let i = 0; i < 2; i++) await write(account, `b${i}`)
    await runAlarmUntilIdle(account)
    expect(puts.length).toBe(3)
    expect(puts[1]).toBe(puts[0])
    expect(puts[2]).not.toBe(puts[0])
    const revs = (await commitsOf(account.did)).map((c) => c.rev)
    expect(await indexedRevs(account.did)).toEqual(revs)
    for (const rev of revs) expect(await archivedCommit(account.did, rev)).not.toBeNull()
  })

  it('archives an imported repo and deletes the replaced one; deletion removes it all', async () => {
    const account = await createTestAccount('segimport')
    for (let i = 0; i < 3; i++) await write(account, `old${i}`)
    await runAlarmUntilIdle(account)
    const replaced = await listArchive(env.STORAGE, account.did)
    expect(replaced.length).toBeGreaterThan(0)
    ok(await account.stub.setStatus({ active: false, status: 'deactivated' }))
    await runAlarmUntilIdle(account)

    const repo = await buildRepo(account.did, 60)
    const token = ok(await account.stub.beginImport())
    ok(await account.stub.stageImport(token, repo.blocks))
    const imported = ok(
      await account.stub.finishImport({ token, root: repo.root.toString(), signatureValid: null }),
    )
    await runInDurableObject(account.stub, (instance: AccountDurableObject) =>
      instance.account.runAlarm(),
    )
    const objects = await listArchive(env.STORAGE, account.did)
    // Only the import's share(s) are left: the replaced repo's objects are gone.
    expect(objects.length).toBeGreaterThan(0)
    for (const object of objects) {
      expect(object.firstRev).toBe(imported.commit.rev)
      expect(replaced.map((r) => r.key)).not.toContain(object.key)
    }
    const archived = await archivedCommit(account.did, imported.commit.rev)
    // Every block of the imported tree, and the fresh commit over it (not the imported one).
    const tree = repo.blocks.filter((block) => block.cid !== repo.root.toString())
    for (const block of tree) expect(archived!.get(block.cid)).toEqual(block.bytes)
    expect(archived!.has(imported.commit.cid)).toBe(true)
    expect(archived!.size).toBe(tree.length + 1)

    // Commits after the import go on in segments of their own; deletion removes everything.
    ok(await account.stub.setStatus({ active: true }))
    await write(account, 'after')
    await runAlarmUntilIdle(account)
    expect((await listArchive(env.STORAGE, account.did)).length).toBe(objects.length + 1)
    ok(await account.stub.deleteRepo())
    expect((await env.STORAGE.list({ prefix: `repo/${account.did}/` })).objects.length).toBe(0)
  })

  it('reads a segment whose index is larger than its first range read', async () => {
    // 1,500 commits of one small block each: an index of about 100 KiB, past the 64 KiB the
    // reader asks for first, so it has to ask again for the length the head says it needs.
    const did = 'did:plc:bigsegmentindex00000000'
    const slices = []
    let rev = nextTid()
    for (let i = 0; i < 1500; i++) {
      const block = await encodeCborBlock({ n: i, text: `commit ${i}` })
      slices.push({ rev, cid: block.cid, sections: blockSections([block]) })
      rev = nextTid(rev)
    }
    const { bytes } = await encodeSegment(did, slices)
    const key = segmentKey(did, slices[0]!.rev, slices.at(-1)!.rev)
    await env.STORAGE.put(key, bytes)
    const reads: { offset: number; length: number }[] = []
    const counted = {
      get: (k: string, options?: { range?: { offset: number; length: number } }) => {
        if (options?.range) reads.push(options.range)
        return env.STORAGE.get(k, options)
      },
      list: (options: { prefix: string; cursor?: string }) => env.STORAGE.list(options),
    }
    const head = await readSegmentIndex(counted, key)
    expect(head!.index.commits.length).toBe(1500)
    expect(head!.sectionsStart).toBeGreaterThan(64 * 1024)
    expect(reads.map((r) => r.length)).toEqual([64 * 1024, head!.sectionsStart])
    // Any commit, the last included, is read back by its rev with its exact block.
    for (const i of [0, 750, 1499]) {
      const found = await readArchivedCommit(counted, did, slices[i]!.rev)
      const cid = slices[i]!.cid.toString()
      expect([...found!.keys()]).toEqual([cid])
      expect(found!.get(cid)).toEqual((await encodeCborBlock({ n: i, text: `commit ${i}` })).bytes)
    }
    await env.STORAGE.delete(key)
  })
})

/** A repo of `records` posts for `did` (signed by a key of its own), as blocks. */
async function buildRepo(
  did: string,
  records: number,
): Promise<{ root: CID; blocks: { cid: string; bytes: Uint8Array }[] }> {
  const store = new MemoryBlockStore()
  let mst = Mst.create(store)
  let rev: string | null = null
  const blocks: { cid: string; bytes: Uint8Array }[] = []
  for (let i = 0; i < records; i++) {
    const block = await encodeCborBlock({
      $type: POSTS,
      text: `imported ${i}`,
      createdAt: '2026-01-01T00:00:00Z',
    })
    blocks.push({ cid: block.cid.toString(), bytes: block.bytes })
    rev = nextTid(rev)
    mst = await mst.add(`${POSTS}/${rev}`, block.cid)
  }
  for (const node of await mst.collectNewBlocks()) {
    blocks.push({ cid: node.cid.toString(), bytes: node.bytes })
  }
  const commit = await signCommit(
    { did, version: 3, data: await mst.rootCid(), rev: nextTid(rev), prev: null },
    await Secp256k1Keypair.create(),
  )
  const block = await commitToBlock(commit)
  return { root: block.cid, blocks: [{ cid: block.cid.toString(), bytes: block.bytes }, ...blocks] }
}
