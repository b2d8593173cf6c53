/**
 * com.atproto.repo.importRepo: a repo built by @atproto/repo (an independent implementation)
 * moves into a deactivated account created for migration; every bad input is refused with a
 * 4xx and leaves the account's repo, its head and its D1 index as they were.
 */

import { env, runInDurableObject, SELF } from 'cloudflare:test'
import { Secp256k1Keypair as AtprotoKeypair } from '@atproto/crypto'
import {
  verifyRepoCar as atprotoVerifyRepoCar,
  getFullRepo,
  MemoryBlockstore,
  type RecordCreateOp,
  Repo,
  WriteOpAction,
} from '@atproto/repo'
import { CID as AtprotoCid } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, inject, it } from 'vitest'
import { IMPORT_ABANDONED_MS } from '../../src/account/alarm.ts'
import { accountStub, sequencerStub } from '../../src/bindings.ts'
import { getConfig } from '../../src/config.ts'
import type { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { concatBytes } from '../../src/data/bytes.ts'
import { encodeCbor } from '../../src/data/cbor.ts'
import { CID, cidForCborBytes } from '../../src/data/cid.ts'
import {
  cidForPlcOperation,
  createUpdateOperation,
  PlcClient,
  signPlcOperation,
} from '../../src/identity/index.ts'
import { encodeVarint } from '../../src/repo/varint.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import { createMigratingAccount } from '../helpers/migrating-account.ts'
import { BASE, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const plc = new PlcClient(inject('plcUrl'))
const CAR = 'application/vnd.ipld.car'

type Migrating = { did: string; key: Secp256k1Keypair; atKey: AtprotoKeypair; accessJwt: string }

/** A DID made elsewhere (its key ours to use), moved here with createAccount: deactivated. */
async function migratingAccount(): Promise<Migrating> {
  const account = await createMigratingAccount(BASE, inject('plcUrl'), 'moved', (url, init) =>
    SELF.fetch(url, init),
  )
  return { ...account, atKey: await AtprotoKeypair.import(account.key.exportPrivateKey()) }
}

/** The DID document now names this PDS and the account's key here; then activateAccount. */
async function activate(account: Migrating): Promise<string> {
  const row = await env.DB.prepare('SELECT signing_key_did AS key FROM account WHERE did = ?')
    .bind(account.did)
    .first<{ key: string }>()
  const last = await plc.getLastOperation(account.did)
  const op = await signPlcOperation(
    createUpdateOperation(last, await cidForPlcOperation(last), {
      pdsEndpoint: getConfig(env).publicUrl,
      signingKeyDid: row!.key,
    }),
    account.key,
  )
  await plc.submitOperation(account.did, op)
  const res = await xrpcPost('com.atproto.server.activateAccount', undefined, account.accessJwt)
  expect(res.status).toBe(200)
  return row!.key
}

type Write = { collection: string; rkey: string; record: RecordCreateOp['record'] }

const BLOB = 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy'
const LEGACY_BLOB = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

function sampleWrites(posts: number): Write[] {
  const writes: Write[] = []
  for (let i = 0; i < posts; i++) {
    writes.push({
      collection: 'app.bsky.feed.post',
      rkey: `3l${String(i).padStart(11, 'a')}`.slice(0, 13),
      record: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: '2026-01-01T00:00:00Z' },
    })
  }
  writes.push(
    {
      collection: 'app.bsky.feed.post',
      rkey: '3lzzzzzzzzzz2',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'with a picture',
        createdAt: '2026-01-01T00:00:00Z',
        embed: {
          $type: 'app.bsky.embed.images',
          images: [
            {
              alt: '',
              image: {
                $type: 'blob',
                ref: AtprotoCid.parse(BLOB),
                mimeType: 'image/png',
                size: 1234,
              },
            },
          ],
        },
      },
    },
    {
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      // The legacy form of a blob ref: a CID string and a MIME type.
      record: {
        $type: 'app.bsky.actor.profile',
        displayName: 'Moved',
        avatar: { cid: LEGACY_BLOB, mimeType: 'image/jpeg' },
      },
    },
    {
      collection: 'app.bsky.graph.follow',
      rkey: '3lfollow00002',
      record: {
        $type: 'app.bsky.graph.follow',
        subject: 'did:plc:someoneelse000000000000',
        createdAt: '2026-01-01T00:00:00Z',
      },
    },
  )
  return writes
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return concatBytes(chunks)
}

/** The repo as @atproto/repo builds and exports it. */
async function buildCar(did: string, key: AtprotoKeypair, writes: Write[]): Promise<Uint8Array> {
  const storage = new MemoryBlockstore()
  const repo = await Repo.create(
    storage,
    did,
    key,
    writes.map((w) => ({ action: WriteOpAction.Create, ...w }) as RecordCreateOp),
  )
  return collect(getFullRepo(storage, repo.cid))
}

function importRepo(
  token: string,
  body: BodyInit | null,
  headers: Record<string, string> = { 'content-type': CAR },
) {
  return SELF.fetch(`${BASE}/xrpc/com.atproto.repo.importRepo`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  })
}

async function expectRefused(res: Response, status: number, message: RegExp): Promise<void> {
  const body = (await res.json()) as { error: string; message: string }
  expect({ status: res.status, ...body }).toMatchObject({
    status,
    error: expect.any(String),
    message: expect.stringMatching(message),
  })
}

/** Blocks an import left staged in the account object (none once it ended, either way). */
function stagedBlocks(did: string): Promise<number> {
  return runInDurableObject(accountStub(env, did), async (_: AccountDurableObject, state) => {
    return state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM import_block').one().n
  })
}

/** What the account object recorded of its imports: whether each signature matched the DID. */
function recordedImports(did: string) {
  return runInDurableObject(accountStub(env, did), async (_: AccountDurableObject, state) => {
    return state.storage.sql
      .exec<{ imported_rev: string; signature_valid: number | null; records: number }>(
        'SELECT imported_rev, signature_valid, records FROM repo_import ORDER BY rev',
      )
      .toArray()
  })
}

/** Everything an import may change: the head, and the D1 rows of the repo. */
async function snapshot(did: string) {
  const head = await accountStub(env, did).getHead()
  const records = await env.DB.prepare(
    'SELECT collection, rkey, cid, rev FROM record WHERE did = ? ORDER BY collection, rkey',
  )
    .bind(did)
    .all()
  const blobs = await env.DB.prepare('SELECT * FROM record_blob WHERE did = ? ORDER BY blob_cid')
    .bind(did)
    .all()
  return { head, records: records.results, blobs: blobs.results }
}

function carWith(roots: CID[], blocks: { cid: CID; bytes: Uint8Array }[]): Uint8Array {
  const header = encodeCbor({ version: 1, roots })
  const parts: Uint8Array[] = [encodeVarint(header.length), header]
  for (const { cid, bytes } of blocks) {
    parts.push(encodeVarint(cid.bytes.length + bytes.length), cid.bytes, bytes)
  }
  return concatBytes(parts)
}

/** The sections of a CAR, as our reader sees them, to rebuild altered ones. */
async function sectionsOf(car: Uint8Array) {
  const { readCarStream } = await import('../../src/repo/car.ts')
  const { roots, blocks } = await readCarStream(car)
  const out: { cid: CID; bytes: Uint8Array }[] = []
  for await (const block of blocks) out.push({ cid: block.cid, bytes: block.bytes })
  return { roots, blocks: out }
}

describe('importRepo', () => {
  it('imports a repo of several collections, with blob refs, signed afresh by our key', async () => {
    const account = await migratingAccount()
    const writes = sampleWrites(40)
    const car = await buildCar(account.did, account.atKey, writes)
    const res = await importRepo(account.accessJwt, car)
    expect(res.status).toBe(200)
    expect(await stagedBlocks(account.did)).toBe(0)

    // Nothing went to the firehose while deactivated.
    const events = await sequencerStub(env).getEvents({ after: 0, limit: 100_000 })
    expect(events.filter((e) => e.did === account.did && e.type === '#commit')).toEqual([])

    // The blobs the records reference, the legacy one too, are listed as missing.
    const missing = await xrpcGet<{ blobs: { cid: string; recordUri: string }[] }>(
      'com.atproto.repo.listMissingBlobs',
      {},
      account.accessJwt,
    )
    expect(missing.status).toBe(200)
    expect(missing.body.blobs.map((b) => b.cid).sort()).toEqual([BLOB, LEGACY_BLOB].sort())

    const signingKey = await activate(account)
    const latest = await xrpcGet<{ cid: string; rev: string }>('com.atproto.sync.getLatestCommit', {
      did: account.did,
    })
    expect(latest.status).toBe(200)
    const exported = await SELF.fetch(`${BASE}/xrpc/com.atproto.sync.getRepo?did=${account.did}`)
    expect(exported.status).toBe(200)
    const exportedCar = new Uint8Array(await exported.arrayBuffer())
    // @atproto/repo verifies the repo with the key the PLC document names (ours, not the old).
    const verified = await atprotoVerifyRepoCar(exportedCar, account.did, signingKey)
    expect(verified.commit.rev).toBe(latest.body.rev)
    expect(verified.creates).toHaveLength(writes.length)
    await expect(
      atprotoVerifyRepoCar(exportedCar, account.did, account.key.did()),
    ).rejects.toThrow()

    const imported = await sectionsOf(car)
    expect(latest.body.cid).not.toBe(imported.roots[0]!.toString())

    const list = await xrpcGet<{ records: { uri: string; cid: string; value: unknown }[] }>(
      'com.atproto.repo.listRecords',
      { repo: account.did, collection: 'app.bsky.feed.post', limit: 100 },
    )
    expect(list.body.records).toHaveLength(41)
    for (const create of verified.creates) {
      const got = await xrpcGet<{ cid: string; value: Record<string, unknown> }>(
        'com.atproto.repo.getRecord',
        { repo: account.did, collection: create.collection, rkey: create.rkey },
      )
      expect(got.status).toBe(200)
      expect(got.body.cid).toBe(create.cid.toString())
    }
    const profile = await xrpcGet<{ value: Record<string, unknown> }>(
      'com.atproto.repo.getRecord',
      { repo: account.did, collection: 'app.bsky.actor.profile', rkey: 'self' },
    )
    expect(profile.body.value.avatar).toEqual({ cid: LEGACY_BLOB, mimeType: 'image/jpeg' })

    // The next write follows on from the fresh commit.
    const write = await xrpcPost<{ commit: { rev: string } }>(
      'com.atproto.repo.createRecord',
      {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'after', createdAt: new Date().toISOString() },
      },
      account.accessJwt,
    )
    expect(write.status).toBe(200)
    const after = await sequencerStub(env).getEvents({ after: 0, limit: 100_000 })
    const commits = after.filter((e) => e.did === account.did && e.type === '#commit')
    expect(commits).toHaveLength(1)
    expect(write.body.commit.rev > latest.body.rev).toBe(true)
  })

  it('replaces the repo when imported again: records not in the new CAR are gone', async () => {
    const account = await migratingAccount()
    const full = sampleWrites(10)
    const first = await buildCar(account.did, account.atKey, full)
    expect((await importRepo(account.accessJwt, first)).status).toBe(200)
    // A backup signed by a key the DID no longer names is taken, and that is recorded.
    const stale = await buildCar(account.did, await AtprotoKeypair.create(), full)
    expect((await importRepo(account.accessJwt, stale)).status).toBe(200)
    expect(await recordedImports(account.did)).toEqual([
      { imported_rev: expect.any(String), signature_valid: 1, records: full.length },
      { imported_rev: expect.any(String), signature_valid: 0, records: full.length },
    ])
    // The same CAR again: the same records.
    expect((await importRepo(account.accessJwt, first)).status).toBe(200)
    const once = await snapshot(account.did)
    expect(once.records).toHaveLength(full.length)
    expect(once.blobs).toHaveLength(2)

    // A smaller one, without the picture post and the profile.
    const smaller = full.filter((w) => w.rkey !== 'self' && w.rkey !== '3lzzzzzzzzzz2').slice(3)
    const second = await buildCar(account.did, account.atKey, smaller)
    expect((await importRepo(account.accessJwt, second)).status).toBe(200)
    const now = await snapshot(account.did)
    expect(now.records.map((r) => `${r.collection}/${r.rkey}`)).toEqual(
      smaller.map((w) => `${w.collection}/${w.rkey}`).sort(),
    )
    expect(now.blobs).toEqual([])
    expect(now.head!.rev > once.head!.rev).toBe(true)
    const missing = await xrpcGet<{ blobs: unknown[] }>(
      'com.atproto.repo.listMissingBlobs',
      {},
      account.accessJwt,
    )
    expect(missing.body.blobs).toEqual([])
  })

  it('indexes a repo larger than one invocation may send D1 over several (the alarm)', async () => {
    const account = await migratingAccount()
    // 1,200 records: 1,200 D1 statements and more, past one invocation's share (800).
    const writes = sampleWrites(1200)
    const car = await buildCar(account.did, account.atKey, writes)
    const res = await importRepo(account.accessJwt, car)
    expect(res.status).toBe(200)
    const { count } = (await env.DB.prepare('SELECT count(*) AS count FROM record WHERE did = ?')
      .bind(account.did)
      .first<{ count: number }>())!
    expect(count).toBe(writes.length)
    const root = await env.DB.prepare('SELECT cid FROM repo_root WHERE did = ?')
      .bind(account.did)
      .first<{ cid: string }>()
    expect(root?.cid).toBe((await accountStub(env, account.did).getHead())!.cid)
  })

  it('an index resumed after activation does not bring back a record deleted meanwhile', async () => {
    const account = await migratingAccount()
    const writes = sampleWrites(30)
    const car = await buildCar(account.did, account.atKey, writes)
    expect((await importRepo(account.accessJwt, car)).status).toBe(200)
    const stub = accountStub(env, account.did)
    // The job the switch-over wrote, kept to replay it as if the import's D1 index had failed.
    const job = await runInDurableObject(stub, async (_: AccountDurableObject, state) =>
      state.storage.sql
        .exec<{ rev: string; commit_cid: string; data_cid: string }>(
          'SELECT rev, commit_cid, data_cid FROM repo_state',
        )
        .one(),
    )
    await activate(account)
    const gone = writes[0]!
    // A post's key must be a TID when written here; the profile's is 'self'.
    const changed = writes.find((w) => w.collection === 'app.bsky.actor.profile')!
    const deleted = await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: account.did, collection: gone.collection, rkey: gone.rkey },
      account.accessJwt,
    )
    expect(deleted.status).toBe(200)
    const put = await xrpcPost<{ cid: string }>(
      'com.atproto.repo.putRecord',
      {
        repo: account.did,
        collection: changed.collection,
        rkey: changed.rkey,
        record: { ...changed.record, displayName: 'Changed after the import' },
      },
      account.accessJwt,
    )
    expect(put.status).toBe(200)

    // The alarm resumes the import's index from its first page only now.
    await runInDurableObject(stub, async (instance: AccountDurableObject, state) => {
      state.storage.sql.exec(
        `INSERT OR REPLACE INTO import_index (id, rev, commit_cid, data_cid, after_key)
         VALUES (1, ?, ?, ?, NULL)`,
        job.rev,
        job.commit_cid,
        job.data_cid,
      )
      await instance.account.runAlarm()
      expect(state.storage.sql.exec('SELECT * FROM import_index').toArray()).toEqual([])
    })
    const row = ({ collection, rkey }: Write) =>
      env.DB.prepare('SELECT cid FROM record WHERE did = ? AND collection = ? AND rkey = ?')
        .bind(account.did, collection, rkey)
        .first<{ cid: string }>()
    expect(await row(gone)).toBeNull()
    expect((await row(changed))?.cid).toBe(put.body.cid)
    const { count } = (await env.DB.prepare('SELECT count(*) AS count FROM record WHERE did = ?')
      .bind(account.did)
      .first<{ count: number }>())!
    const listed = await SELF.fetch(
      `${BASE}/xrpc/com.atproto.sync.getRepo?did=${account.did}`,
    ).then(async (res) =>
      atprotoVerifyRepoCar(new Uint8Array(await res.arrayBuffer()), account.did),
    )
    expect(count).toBe(listed.creates.length)
    const root = await env.DB.prepare('SELECT cid FROM repo_root WHERE did = ?')
      .bind(account.did)
      .first<{ cid: string }>()
    expect(root?.cid).toBe((await stub.getHead())!.cid)
  })

  it("drops an abandoned import's staged blocks from the alarm, not a recent one's", async () => {
    const account = await migratingAccount()
    const stub = accountStub(env, account.did)
    const begun = await stub.beginImport()
    if (!begun.ok) throw new Error('beginImport failed')
    const bytes = encodeCbor({ staged: 'block' })
    const cid = (await cidForCborBytes(bytes)).toString()
    expect((await stub.stageImport(begun.value, [{ cid, bytes }])).ok).toBe(true)
    // The Worker that streamed the CAR died: no finish, no abort. An alarm within the hour
    // keeps the blocks; one after it drops them.
    await runInDurableObject(stub, (instance: AccountDurableObject) => instance.account.runAlarm())
    expect(await stagedBlocks(account.did)).toBe(1)
    await runInDurableObject(stub, async (instance: AccountDurableObject, state) => {
      state.storage.sql.exec(
        'UPDATE import_session SET started_at = ?',
        Date.now() - IMPORT_ABANDONED_MS - 1000,
      )
      await instance.account.runAlarm()
      expect(state.storage.sql.exec('SELECT * FROM import_session').toArray()).toEqual([])
    })
    expect(await stagedBlocks(account.did)).toBe(0)
  })

  describe('refuses bad input with a 4xx and changes nothing', () => {
    const cases: [string, (a: Migrating, good: Uint8Array) => Promise<Uint8Array>, RegExp][] = [
      ['garbage bytes', async () => crypto.getRandomValues(new Uint8Array(5000)), /CAR/],
      ['a truncated CAR', async (_a, good) => good.subarray(0, good.length - 50), /truncated/],
      [
        "a block whose bytes don't match its CID",
        async (_a, good) => {
          const { roots, blocks } = await sectionsOf(good)
          const last = blocks[blocks.length - 1]!
          const bytes = last.bytes.slice()
          bytes[bytes.length - 1]! ^= 1
          return carWith(roots, [...blocks.slice(0, -1), { cid: last.cid, bytes }])
        },
        /does not match its CID/,
      ],
      [
        'two roots',
        async (_a, good) => {
          const { roots, blocks } = await sectionsOf(good)
          return carWith([roots[0]!, blocks[1]!.cid], blocks)
        },
        /exactly one root/,
      ],
      [
        'a root that is not a commit',
        async (_a, good) => {
          const { blocks } = await sectionsOf(good)
          const record = blocks.find((b) => b.bytes.length > 0 && !blocks[0]!.cid.equals(b.cid))!
          return carWith([record.cid], blocks)
        },
        /not a repo commit/,
      ],
      [
        "another DID's repo",
        async () => {
          const other = await AtprotoKeypair.create()
          return buildCar('did:plc:anotheraccount0000000000', other, sampleWrites(3))
        },
        /belongs to did:plc:anotheraccount/,
      ],
      [
        'a missing MST node',
        async (_a, good) => {
          const { roots, blocks } = await sectionsOf(good)
          const { decodeCbor } = await import('../../src/data/cbor.ts')
          const commit = decodeCbor<{ data: CID }>(
            blocks.find((b) => b.cid.equals(roots[0]!))!.bytes,
          )
          return carWith(
            roots,
            blocks.filter((b) => !b.cid.equals(CID.asCID(commit.data)!)),
          )
        },
        /incomplete or malformed/,
      ],
    ]

    it.each(cases)('%s', async (_label, makeCar, message) => {
      const account = await migratingAccount()
      const good = await buildCar(account.did, account.atKey, sampleWrites(30))
      expect((await importRepo(account.accessJwt, good)).status).toBe(200)
      const before = await snapshot(account.did)
      expect(before.records).toHaveLength(33)
      const res = await importRepo(account.accessJwt, await makeCar(account, good))
      await expectRefused(res, 400, message)
      expect(await snapshot(account.did)).toEqual(before)
      expect(await stagedBlocks(account.did)).toBe(0)
    })

    it('over the size limit: 413, from Content-Length or from the bytes', async () => {
      const account = await migratingAccount()
      const before = await snapshot(account.did)
      const limit = getConfig(env).maxImportBytes
      await expectRefused(
        await importRepo(account.accessJwt, new Uint8Array(limit + 1)),
        413,
        /larger than/,
      )
      // A stream with no length: refused once the bytes pass the limit, whole blocks or not.
      const header = encodeCbor({ version: 1, roots: [CID.parse(BLOB)] })
      const blockSize = 1024 * 1024
      let sent = 0
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 0)
            controller.enqueue(new Uint8Array([...encodeVarint(header.length), ...header]))
          if (sent > limit + blockSize) return controller.close()
          const bytes = crypto.getRandomValues(new Uint8Array(blockSize / 16)).map((_, i) => i)
          const block = new Uint8Array(blockSize)
          for (let at = 0; at < blockSize; at += bytes.length) block.set(bytes, at)
          block[0] = sent & 0xff
          const cid = CID.create(1, 0x55, await sha256.digest(block))
          controller.enqueue(encodeVarint(cid.bytes.length + block.length))
          controller.enqueue(cid.bytes)
          controller.enqueue(block)
          sent += blockSize
        },
      })
      await expectRefused(await importRepo(account.accessJwt, body), 413, /larger than/)
      expect(await snapshot(account.did)).toEqual(before)
      expect(await stagedBlocks(account.did)).toBe(0)
    })

    it('an active account: 400 saying it must be deactivated', async () => {
      const account = await migratingAccount()
      await activate(account)
      const before = await snapshot(account.did)
      const car = await buildCar(account.did, account.atKey, sampleWrites(3))
      const res = await importRepo(account.accessJwt, car)
      await expectRefused(res, 400, /deactivated/)
      expect(await snapshot(account.did)).toEqual(before)
    })

    it('no content type, or another one: 400', async () => {
      const account = await migratingAccount()
      const before = await snapshot(account.did)
      const car = await buildCar(account.did, account.atKey, sampleWrites(3))
      await expectRefused(await importRepo(account.accessJwt, car, {}), 400, /Content-Type/)
      await expectRefused(
        await importRepo(account.accessJwt, car, { 'content-type': 'application/json' }),
        400,
        /Content-Type/,
      )
      expect(await snapshot(account.did)).toEqual(before)
    })
  })
})
