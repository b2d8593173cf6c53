import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { createR2CommitArchive } from '../../src/account/archive.ts'
import { RepoWriteError, unwrapAccountResult } from '../../src/account/errors.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts'
import { CID, cidForCborBytes } from '../../src/data/cid.ts'
import { readCar } from '../../src/repo/car.ts'
import { parseCommit, verifyCommitSignature } from '../../src/repo/commit.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import {
  archivedCommit,
  type CommitState,
  checkCommitEvent,
  createTestAccount,
  encryptTestKey,
  eventsOf,
  mstContents,
  ok,
  outboxSize,
  patchSinks,
  post,
  recordRows,
  repoRoot,
} from './account-helpers.ts'

const EMPTY_ROOT = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
const POSTS = 'app.bsky.feed.post'

describe('account repo: create and write', () => {
  it('creates a repo with the events of a new account', async () => {
    const account = await createTestAccount('alice')
    const head = (await account.stub.getHead())!
    const events = await eventsOf(account.did)
    expect(events.map((e) => e.type)).toEqual(['#identity', '#account', '#commit', '#sync'])
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b))
    const [identity, accountEvent, commit, sync] = events.map((e) => e.body)
    expect(identity).toEqual({ did: account.did, handle: account.handle, time: expect.any(String) })
    expect(accountEvent).toEqual({ did: account.did, active: true, time: expect.any(String) })

    // The first commit: no ops, since null, no prevData, the empty tree.
    expect(commit!.ops).toEqual([])
    expect(commit!.rev).toBe(head.rev)
    expect((commit!.commit as CID).toString()).toBe(head.cid)
    const state = await checkCommitEvent(commit!, account, { rev: null, data: null })
    expect(state.data!.toString()).toBe(EMPTY_ROOT)
    const car = await readCar(commit!.blocks as Uint8Array)
    expect([...car.blocks.keys()].sort()).toEqual([head.cid, EMPTY_ROOT].sort())

    // #sync carries only the commit block.
    expect(sync!.did).toBe(account.did)
    expect(sync!.rev).toBe(head.rev)
    const syncCar = await readCar(sync!.blocks as Uint8Array)
    expect(syncCar.roots.map(String)).toEqual([head.cid])
    expect([...syncCar.blocks.keys()]).toEqual([head.cid])

    expect(await repoRoot(account.did)).toEqual(head)
    expect(await recordRows(account.did)).toEqual([])
    // Only the R2 copy of the first commit is left, for the alarm.
    expect(await outboxSize(account.stub)).toBe(1)
    expect(await runDurableObjectAlarm(account.stub)).toBe(true)
    expect(await outboxSize(account.stub)).toBe(0)
    expect(await archivedCommit(account.did, head.rev)).not.toBeNull()
  })

  it('is idempotent for the same DID and refuses another DID', async () => {
    const account = await createTestAccount()
    const head = await account.stub.getHead()
    const again = ok(
      await account.stub.createRepo({
        did: account.did,
        handle: 'x.test',
        signingKey: '11'.repeat(32),
      }),
    )
    expect(again).toEqual(head)
    const other = await account.stub.createRepo({
      did: 'did:plc:someoneelseentirely00000',
      handle: 'y.test',
      signingKey: '11'.repeat(32),
    })
    expect(other).toMatchObject({ ok: false, error: { name: 'RepoAlreadyExists' } })
    expect((await eventsOf(account.did)).length).toBe(4)
  })

  it('commits writes in a chain that a relay can verify, and keeps D1 in step', async () => {
    const account = await createTestAccount('bob')
    const { stub, did } = account
    const first = ok(
      await stub.applyWrites({
        writes: [
          { action: 'create', collection: POSTS, rkey: '3jzfcijpj2z2a', record: post('one') },
          { action: 'create', collection: POSTS, rkey: '3jzfcijpj2z2b', record: post('two') },
          {
            action: 'create',
            collection: 'app.bsky.actor.profile',
            rkey: 'self',
            record: encodeCbor({ $type: 'app.bsky.actor.profile', displayName: 'Bob' }),
          },
        ],
      }),
    )
    expect(first.indexed).toBe(true)
    expect(first.results).toEqual([
      { action: 'create', uri: `at://${did}/${POSTS}/3jzfcijpj2z2a`, cid: expect.any(String) },
      { action: 'create', uri: `at://${did}/${POSTS}/3jzfcijpj2z2b`, cid: expect.any(String) },
      {
        action: 'create',
        uri: `at://${did}/app.bsky.actor.profile/self`,
        cid: expect.any(String),
      },
    ])
    expect(first.results[0]!.cid).toBe((await cidForCborBytes(post('one'))).toString())
    // Read-your-writes: the index has the records when the write returns.
    expect((await recordRows(did)).map((r) => r.rkey)).toEqual([
      'self',
      '3jzfcijpj2z2a',
      '3jzfcijpj2z2b',
    ])

    const update = ok(
      await stub.applyWrites({
        writes: [
          {
            action: 'update',
            collection: POSTS,
            rkey: '3jzfcijpj2z2a',
            record: post('one, edited'),
            swapRecord: first.results[0]!.cid!,
          },
        ],
        swapCommit: first.commit.cid,
      }),
    )
    const del = ok(
      await stub.applyWrites({
        writes: [{ action: 'delete', collection: POSTS, rkey: '3jzfcijpj2z2b' }],
      }),
    )
    const put = ok(
      await stub.applyWrites({
        writes: [
          { action: 'put', collection: POSTS, rkey: '3jzfcijpj2z2c', record: post('put new') },
          {
            action: 'put',
            collection: 'app.bsky.actor.profile',
            rkey: 'self',
            record: encodeCbor({ $type: 'app.bsky.actor.profile', displayName: 'Bobby' }),
          },
        ],
      }),
    )
    expect(put.results.map((r) => r.action)).toEqual(['create', 'update'])
    const revs = [first, update, del, put].map((w) => w.commit.rev)
    expect([...revs].sort()).toEqual(revs)
    expect(new Set(revs).size).toBe(4)

    const head = (await stub.getHead())!
    expect(head).toEqual(put.commit)
    expect(await repoRoot(did)).toEqual(head)

    // D1 rows equal the MST contents, with the JSON values of the records.
    const contents = await mstContents(stub)
    const rows = await recordRows(did)
    expect(new Map(rows.map((r) => [`${r.collection}/${r.rkey}`, r.cid]))).toEqual(contents)
    expect(contents.size).toBe(3)
    const edited = rows.find((r) => r.rkey === '3jzfcijpj2z2a')!
    expect(JSON.parse(edited.value)).toEqual({
      $type: POSTS,
      text: 'one, edited',
      createdAt: '2024-01-01T00:00:00.000Z',
    })
    expect(edited.rev).toBe(update.commit.rev)

    // The firehose: the account's creation, then one #commit per write, in order.
    const events = await eventsOf(did)
    expect(events.map((e) => e.type)).toEqual([
      '#identity',
      '#account',
      '#commit',
      '#sync',
      '#commit',
      '#commit',
      '#commit',
      '#commit',
    ])
    const commits = events.filter((e) => e.type === '#commit').map((e) => e.body)
    let state: CommitState = { rev: null, data: null }
    for (const body of commits) state = await checkCommitEvent(body, account, state)
    expect(commits.slice(1).map((c) => c.rev)).toEqual(revs)
    expect(commits[2]!.ops).toEqual([
      {
        action: 'update',
        path: `${POSTS}/3jzfcijpj2z2a`,
        cid: CID.parse(update.results[0]!.cid!),
        prev: CID.parse(first.results[0]!.cid!),
      },
    ])
    expect(commits[3]!.ops).toEqual([
      {
        action: 'delete',
        path: `${POSTS}/3jzfcijpj2z2b`,
        cid: null,
        prev: CID.parse(first.results[1]!.cid!),
      },
    ])
    // Deleted records are not in the slice.
    const delCar = await readCar(commits[3]!.blocks as Uint8Array)
    expect(delCar.blocks.has(first.results[1]!.cid!)).toBe(false)

    // R2 gets the commits, once the background archive ran: each commit's blocks are the
    // ones its event carried, found again in the archive by its rev.
    await runInDurableObject(stub, async (instance: AccountDurableObject) => {
      await instance.account.runAlarm()
    })
    for (const body of commits) {
      const archived = await archivedCommit(did, body.rev as string)
      expect(archived).not.toBeNull()
      expect(archived!.has((body.commit as CID).toString())).toBe(true)
      const sent = await readCar(body.blocks as Uint8Array)
      expect(archived).toEqual(sent.blocks)
    }
    expect(await outboxSize(stub)).toBe(0)
  })

  it('serves the blocks it holds', async () => {
    const account = await createTestAccount()
    const written = ok(
      await account.stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'abc', record: post('hi') }],
      }),
    )
    const cid = written.results[0]!.cid!
    expect(decodeCbor(new Uint8Array((await account.stub.getRecordBlock(cid))!))).toMatchObject({
      text: 'hi',
    })
    const blocks = await account.stub.getBlocks([cid, written.commit.cid, EMPTY_ROOT])
    expect(blocks.blocks.map((b) => b.cid)).toEqual([cid, written.commit.cid, EMPTY_ROOT])
    expect(blocks.missing).toEqual([])
    const commit = parseCommit(new Uint8Array(blocks.blocks[1]!.bytes))
    expect(await verifyCommitSignature(commit, account.key.did())).toBe(true)
    const missing = await account.stub.getBlocks(['bafyreibogus'])
    expect(missing).toEqual({ blocks: [], missing: ['bafyreibogus'] })
  })
})

describe('account repo: refusals', () => {
  async function refusal(
    account: Awaited<ReturnType<typeof createTestAccount>>,
    input: Parameters<typeof account.stub.applyWrites>[0],
  ): Promise<{ name: string; message: string }> {
    const result = await account.stub.applyWrites(input)
    if (result.ok) throw new Error('expected a refusal')
    return result.error
  }

  it('maps bad writes to XRPC error names and commits nothing', async () => {
    const account = await createTestAccount()
    const created = ok(
      await account.stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'k1', record: post('x') }],
      }),
    )
    const cid = created.results[0]!.cid!
    const head = await account.stub.getHead()

    expect(
      await refusal(account, {
        writes: [{ action: 'create', collection: POSTS, rkey: 'k2', record: post('y') }],
        swapCommit: EMPTY_ROOT,
      }),
    ).toEqual({ name: 'InvalidSwap', message: `Commit was at ${head!.cid}` })
    expect(
      await refusal(account, {
        writes: [
          {
            action: 'update',
            collection: POSTS,
            rkey: 'k1',
            record: post('y'),
            swapRecord: EMPTY_ROOT,
          },
        ],
      }),
    ).toEqual({ name: 'InvalidSwap', message: `Record was at ${cid}` })
    expect(
      await refusal(account, {
        writes: [
          { action: 'put', collection: POSTS, rkey: 'k1', record: post('y'), swapRecord: null },
        ],
      }),
    ).toMatchObject({ name: 'InvalidSwap' })
    expect(
      await refusal(account, {
        writes: [{ action: 'create', collection: POSTS, rkey: 'k1', record: post('y') }],
      }),
    ).toMatchObject({ name: 'RecordAlreadyExists' })
    expect(
      await refusal(account, {
        writes: [{ action: 'update', collection: POSTS, rkey: 'nope', record: post('y') }],
      }),
    ).toMatchObject({ name: 'RecordNotFound' })
    expect(
      await refusal(account, { writes: [{ action: 'delete', collection: POSTS, rkey: 'nope' }] }),
    ).toMatchObject({ name: 'RecordNotFound' })
    const tooMany = Array.from({ length: 201 }, (_, i) => ({
      action: 'create' as const,
      collection: POSTS,
      rkey: `r${i}`,
      record: post(`${i}`),
    }))
    expect(await refusal(account, { writes: tooMany })).toEqual({
      name: 'InvalidRequest',
      message: 'Too many writes. Max: 200',
    })
    const big = encodeCbor({ $type: POSTS, text: 'x'.repeat(1_000_001) })
    expect(
      await refusal(account, {
        writes: [{ action: 'create', collection: POSTS, rkey: 'big', record: big }],
      }),
    ).toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringContaining('Record too large'),
    })
    // Three records of 700 kB: each allowed, but the commit's CAR would exceed 2,000,000 bytes.
    const large = (i: number) => encodeCbor({ $type: POSTS, text: `${i}`.repeat(700_000) })
    expect(
      await refusal(account, {
        writes: [0, 1, 2].map((i) => ({
          action: 'create' as const,
          collection: POSTS,
          rkey: `l${i}`,
          record: large(i),
        })),
      }),
    ).toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringContaining('Commit too large'),
    })
    expect(
      await refusal(account, {
        writes: [
          { action: 'create', collection: POSTS, rkey: 'bad', record: post('x'), cid: EMPTY_ROOT },
        ],
      }),
    ).toMatchObject({ name: 'InvalidRequest' })
    expect(
      await refusal(account, {
        writes: [
          { action: 'create', collection: POSTS, rkey: 'bad', record: new Uint8Array([0xff]) },
        ],
      }),
    ).toMatchObject({ name: 'InvalidRequest' })
    expect(
      await refusal(account, {
        writes: [{ action: 'create', collection: 'not an nsid', rkey: 'x', record: post('x') }],
      }),
    ).toMatchObject({ name: 'InvalidRequest' })
    // A failing write in a batch leaves the whole batch out.
    expect(
      await refusal(account, {
        writes: [
          { action: 'create', collection: POSTS, rkey: 'fine', record: post('a') },
          { action: 'delete', collection: POSTS, rkey: 'missing' },
        ],
      }),
    ).toMatchObject({ name: 'RecordNotFound' })

    expect(await account.stub.getHead()).toEqual(head)
    expect((await mstContents(account.stub)).size).toBe(1)
    expect((await eventsOf(account.did)).length).toBe(5)

    // The caller-side helper turns a refusal back into a typed error.
    const result = await account.stub.applyWrites({
      writes: [{ action: 'delete', collection: POSTS, rkey: 'missing' }],
    })
    expect(() => unwrapAccountResult(result)).toThrow(RepoWriteError)
    try {
      unwrapAccountResult(result)
    } catch (err) {
      expect((err as RepoWriteError).xrpcError).toBe('RecordNotFound')
    }
  })

  it('refuses writes to a missing repo', async () => {
    const { accountStub } = await import('../../src/bindings.ts')
    const stub = accountStub(env, 'did:plc:neverexistedneverexisted')
    expect(await stub.getHead()).toBeNull()
    expect(await stub.getStatus()).toBeNull()
    const result = await stub.applyWrites({
      writes: [{ action: 'create', collection: POSTS, rkey: 'a', record: post('a') }],
    })
    expect(result).toMatchObject({ ok: false, error: { name: 'RepoNotFound' } })
  })
})

describe('account status', () => {
  it('refuses writes while inactive and emits the lifecycle events', async () => {
    const account = await createTestAccount()
    const { stub, did } = account
    const deactivated = ok(await stub.setStatus({ active: false, status: 'deactivated' }))
    expect(deactivated).toMatchObject({ did, active: false, status: 'deactivated' })
    expect(await stub.getStatus()).toEqual(deactivated)
    const refused = await stub.applyWrites({
      writes: [{ action: 'create', collection: POSTS, rkey: 'a', record: post('a') }],
    })
    expect(refused).toMatchObject({ ok: false, error: { name: 'AccountDeactivated' } })
    // The same status again emits nothing.
    ok(await stub.setStatus({ active: false, status: 'deactivated' }))
    ok(await stub.emitIdentity({ handle: 'renamed.test' }))
    ok(await stub.setStatus({ active: true }))
    ok(await stub.setStatus({ active: false, status: 'takendown' }))
    expect(
      await stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'a', record: post('a') }],
      }),
    ).toMatchObject({ ok: false, error: { name: 'AccountTakedown' } })
    ok(await stub.setStatus({ active: true }))
    ok(
      await stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'a', record: post('a') }],
      }),
    )

    const events = await eventsOf(did)
    const head = (await stub.getHead())!
    expect(
      events
        .slice(4)
        .map((e) => [e.type, e.body.active ?? null, e.body.status ?? null, e.body.handle ?? null]),
    ).toEqual([
      ['#account', false, 'deactivated', null],
      ['#identity', null, null, 'renamed.test'],
      ['#account', true, null, null],
      ['#identity', null, null, 'renamed.test'],
      ['#sync', null, null, null],
      ['#account', false, 'takendown', null],
      ['#account', true, null, null],
      ['#identity', null, null, 'renamed.test'],
      ['#sync', null, null, null],
      ['#commit', null, null, null],
    ])
    expect(events.at(-1)!.body.rev).toBe(head.rev)
    expect((await stub.getStatus())!.handle).toBe('renamed.test')
  })

  it('creates a migrating account deactivated and silent', async () => {
    const { Secp256k1Keypair } = await import('../../src/crypto/index.ts')
    const { accountStub } = await import('../../src/bindings.ts')
    const key = await Secp256k1Keypair.create()
    const did = 'did:plc:migratingmigratingmigrat'
    const stub = accountStub(env, did)
    const head = ok(
      await stub.createRepo({
        did,
        handle: 'mover.test',
        signingKey: await encryptTestKey(key, did),
        active: false,
      }),
    )
    expect(await stub.getStatus()).toMatchObject({ active: false, status: 'deactivated' })
    expect(await eventsOf(did)).toEqual([])
    expect(await repoRoot(did)).toEqual(head)
    ok(await stub.setStatus({ active: true }))
    expect((await eventsOf(did)).map((e) => e.type)).toEqual(['#account', '#identity', '#sync'])
  })

  it('deletes a repo: #account deleted, then D1, R2 and its storage are wiped', async () => {
    const account = await createTestAccount()
    const { stub, did } = account
    ok(
      await stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'a', record: post('a') }],
      }),
    )
    await runInDurableObject(stub, (instance: AccountDurableObject) => instance.account.runAlarm())
    // One segment holds both commits (the first and this one).
    expect((await env.STORAGE.list({ prefix: `repo/${did}/` })).objects.length).toBe(1)

    // R2 fails once: the deletion stops half-way, refusing writes, and a retry finishes it.
    await patchSinks(stub, (sinks) => ({
      archive: {
        ...sinks.archive,
        deleteRepo: async () => {
          throw new Error('injected R2 failure')
        },
      },
    }))
    const failed = await runInDurableObject(stub, (instance: AccountDurableObject) =>
      instance.account.deleteRepo().then(
        () => 'deleted',
        (err: Error) => err.message,
      ),
    )
    expect(failed).toBe('injected R2 failure')
    expect(await stub.getStatus()).toMatchObject({ active: false, status: 'deleted' })
    expect(
      await stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'b', record: post('b') }],
      }),
    ).toMatchObject({ ok: false, error: { name: 'RepoNotFound' } })
    // Nor can it be reactivated, or change identity, between the two steps.
    expect(await stub.setStatus({ active: true })).toMatchObject({
      ok: false,
      error: { name: 'RepoNotFound' },
    })
    expect(await stub.emitIdentity({ handle: 'back.test' })).toMatchObject({
      ok: false,
      error: { name: 'RepoNotFound' },
    })
    expect(await stub.getStatus()).toMatchObject({ active: false, status: 'deleted' })
    await patchSinks(stub, () => ({ archive: createR2CommitArchive(env.STORAGE) }))
    ok(await stub.deleteRepo())
    const events = await eventsOf(did)
    expect(events.filter((e) => e.body.status === 'deleted').length).toBe(1)
    expect(events.at(-1)).toMatchObject({
      type: '#account',
      body: { did, active: false, status: 'deleted' },
    })
    expect(await stub.getHead()).toBeNull()
    expect(await recordRows(did)).toEqual([])
    expect(await repoRoot(did)).toBeNull()
    expect((await env.STORAGE.list({ prefix: `repo/${did}/` })).objects.length).toBe(0)
    expect(
      await runInDurableObject(
        stub,
        (_i, state) =>
          state.storage.sql
            .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'block'")
            .toArray().length,
      ),
    ).toBe(0)
    ok(await stub.deleteRepo())

    // The DID can be created again; its new events are not taken for retries of old ones,
    // even with the clock set back since.
    const signingKey = await encryptTestKey(await Secp256k1Keypair.create(), did)
    const now = Date.now()
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now - 86_400_000)
    try {
      ok(await stub.createRepo({ did, handle: 'again.test', signingKey }))
    } finally {
      clock.mockRestore()
    }
    const after = await eventsOf(did)
    expect(after.length).toBe(events.length + 4)
    expect(after.slice(-4).map((e) => e.type)).toEqual([
      '#identity',
      '#account',
      '#commit',
      '#sync',
    ])
  })
})
