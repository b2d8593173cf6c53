/**
 * Shared helpers of the account Durable Object tests: accounts, records, the sequencer's
 * view of an account, and a relay-style check of each #commit (signature, chain, inversion
 * of its ops on the partial tree its CAR slice carries).
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { expect } from 'vitest'
import { readArchivedCommit } from '../../src/account/archive-reader.ts'
import type { AccountResult } from '../../src/account/errors.ts'
import type { AccountSinks } from '../../src/account/sinks.ts'
import { encryptPrivateKey } from '../../src/auth/index.ts'
import { accountStub, sequencerStub } from '../../src/bindings.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import { CID } from '../../src/data/cid.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { readCar } from '../../src/repo/car.ts'
import { parseCommit, verifyCommitSignature } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'

export type TestAccount = {
  did: string
  handle: string
  key: Secp256k1Keypair
  stub: DurableObjectStub<AccountDurableObject>
}

let counter = 0

export async function createTestAccount(name = 'user'): Promise<TestAccount> {
  const key = await Secp256k1Keypair.create()
  counter++
  const suffix = `${Date.now().toString(36)}${counter.toString(36)}`.padEnd(24, 'a').slice(0, 24)
  const did = `did:plc:${suffix}`
  const handle = `${name}${counter}.test`
  const stub = accountStub(env, did)
  const created = ok(
    await stub.createRepo({ did, handle, signingKey: await encryptTestKey(key, did) }),
  )
  expect(created.rev).toMatch(/^[a-z2-7]{13}$/)
  return { did, handle, key, stub }
}

/** A signing key encrypted the way createAccount stores it (test secret from vitest.config). */
export function encryptTestKey(key: Secp256k1Keypair, did: string): Promise<string> {
  const secret = (env as unknown as { PDS_KEY_ENCRYPTION_SECRET: string }).PDS_KEY_ENCRYPTION_SECRET
  return encryptPrivateKey(key.exportPrivateKey(), secret, did)
}

export function ok<T>(result: AccountResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.name}: ${result.error.message}`)
  return result.value
}

export function post(text: string): Uint8Array {
  return encodeCbor({ $type: 'app.bsky.feed.post', text, createdAt: '2024-01-01T00:00:00.000Z' })
}

export type DecodedEvent = { seq: number; type: string; body: Record<string, unknown> }

export async function eventsOf(did: string): Promise<DecodedEvent[]> {
  const events = await sequencerStub(env).getEvents({ after: 0, limit: 100_000 })
  return events
    .filter((event) => event.did === did)
    .map((event) => ({
      seq: event.seq,
      type: event.type,
      body: decodeCbor<Record<string, unknown>>(event.body),
    }))
}

export type RecordRow = {
  collection: string
  rkey: string
  cid: string
  value: string
  rev: string
}

export async function recordRows(did: string): Promise<RecordRow[]> {
  const { results } = await env.DB.prepare(
    'SELECT collection, rkey, cid, value, rev FROM record WHERE did = ? ORDER BY collection, rkey',
  )
    .bind(did)
    .all<RecordRow>()
  return results
}

export async function repoRoot(did: string): Promise<{ cid: string; rev: string } | null> {
  return env.DB.prepare('SELECT cid, rev FROM repo_root WHERE did = ?')
    .bind(did)
    .first<{ cid: string; rev: string }>()
}

/** The repo's contents, read from the object's own storage. */
export async function mstContents(
  stub: DurableObjectStub<AccountDurableObject>,
): Promise<Map<string, string>> {
  return runInDurableObject(stub, async (instance: AccountDurableObject) => {
    const head = instance.account.getHead()
    const out = new Map<string, string>()
    if (!head) return out
    const commit = parseCommit(instance.account.getBlock(head.cid)!)
    const mst = Mst.load(instance.account.blocks, commit.data)
    for (const entry of await mst.list()) out.set(entry.key, entry.value.toString())
    return out
  })
}

/** Replaces sinks of the live object (until it is reset, which brings back the real ones). */
export async function patchSinks(
  stub: DurableObjectStub<AccountDurableObject>,
  patch: (sinks: AccountSinks) => Partial<AccountSinks>,
): Promise<void> {
  await runInDurableObject(stub, (instance: AccountDurableObject) => {
    const current = instance.account.sinks
    instance.account.sinks = { ...current, ...patch(current) }
  })
}

/** The blocks commit `rev` of `did` brought, as its R2 archive segment holds them. */
export function archivedCommit(did: string, rev: string): Promise<Map<string, Uint8Array> | null> {
  return readArchivedCommit(env.STORAGE, did, rev)
}

/** Entries still to deliver somewhere (delivery marks kept in memory written first). */
export async function outboxSize(stub: DurableObjectStub<AccountDurableObject>): Promise<number> {
  return runInDurableObject(stub, (instance, state) => {
    instance.account.outbox.writeMarks()
    return state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n
  })
}

export type CommitState = { rev: string | null; data: CID | null }

/**
 * Checks one #commit as a relay would; returns the state it leads to. `previous` is the state
 * before it (rev and data root of the previous commit).
 */
export async function checkCommitEvent(
  body: Record<string, unknown>,
  account: { did: string; key: Secp256k1Keypair },
  previous: CommitState,
): Promise<CommitState> {
  expect(body.repo).toBe(account.did)
  expect(body.rebase).toBe(false)
  expect(body.tooBig).toBe(false)
  expect(body.blobs).toEqual([])
  expect(typeof body.time).toBe('string')
  expect(body.since).toBe(previous.rev)
  if (previous.data) expect((body.prevData as CID).toString()).toBe(previous.data.toString())
  else expect('prevData' in body).toBe(false)

  const car = await readCar(body.blocks as Uint8Array)
  const commitCid = body.commit as CID
  expect(car.roots.map(String)).toEqual([commitCid.toString()])
  const commitBytes = car.blocks.get(commitCid.toString())
  expect(commitBytes).toBeDefined()
  const commit = parseCommit(commitBytes!)
  expect(commit.did).toBe(account.did)
  expect(commit.version).toBe(3)
  expect(commit.prev).toBeNull()
  expect(commit.rev).toBe(body.rev)
  if (previous.rev) expect(commit.rev > previous.rev).toBe(true)
  expect(await verifyCommitSignature(commit, account.key.did())).toBe(true)

  const store = new MemoryBlockStore()
  for (const [cid, bytes] of car.blocks) store.put(CID.parse(cid), bytes)
  let mst = Mst.load(store, commit.data)
  const ops = body.ops as Array<{ action: string; path: string; cid: CID | null; prev?: CID }>
  for (const op of ops) {
    const current = await mst.get(op.path)
    if (op.action === 'create') {
      expect('prev' in op).toBe(false)
      expect(current?.toString()).toBe(op.cid!.toString())
      expect(car.blocks.has(op.cid!.toString())).toBe(true)
      mst = await mst.delete(op.path)
    } else if (op.action === 'update') {
      expect(current?.toString()).toBe(op.cid!.toString())
      expect(car.blocks.has(op.cid!.toString())).toBe(true)
      mst = await mst.update(op.path, op.prev!)
    } else {
      expect(op.action).toBe('delete')
      expect(op.cid).toBeNull()
      expect(current).toBeNull()
      mst = await mst.add(op.path, op.prev!)
    }
  }
  if (previous.data) expect((await mst.rootCid()).toString()).toBe(previous.data.toString())
  return { rev: commit.rev, data: commit.data }
}

/** Runs the object's alarm until its outbox is empty (at most 10 times); returns how often. */
export async function runAlarmUntilIdle(account: {
  stub: DurableObjectStub<AccountDurableObject>
}): Promise<number> {
  let runs = 0
  while (runs < 10 && (await outboxSize(account.stub)) > 0) {
    expect(await runDurableObjectAlarm(account.stub)).toBe(true)
    runs++
  }
  return runs
}
