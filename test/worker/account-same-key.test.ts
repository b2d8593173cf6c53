/**
 * applyWrites touching one record more than once in a commit (the reference PDS accepts it):
 * the commit's tree has the last write's outcome, the firehose carries one op per key with
 * the net effect (what a relay's inductive check of `prevData` accepts), and the D1 index
 * agrees with the tree.
 */
import { describe, expect, it } from 'vitest'
import type { PreparedWrite } from '../../src/account/types.ts'
import {
  type CommitState,
  checkCommitEvent,
  createTestAccount,
  eventsOf,
  mstContents,
  ok,
  post,
  recordRows,
  type TestAccount,
} from './account-helpers.ts'
import { createTestAccount as createXrpcAccount, xrpcPost } from './helpers/xrpc.ts'

const POSTS = 'app.bsky.feed.post'
/** Posts take TID record keys. */
const ONCE = '3jzfcijpj2z2a'

const create = (rkey: string, text = rkey): PreparedWrite => ({
  action: 'create',
  collection: POSTS,
  rkey,
  record: post(text),
})
const update = (rkey: string, text: string): PreparedWrite => ({
  action: 'update',
  collection: POSTS,
  rkey,
  record: post(text),
})
const remove = (rkey: string): PreparedWrite => ({ action: 'delete', collection: POSTS, rkey })

async function lastCommitChecked(account: TestAccount) {
  const commits = (await eventsOf(account.did)).filter((e) => e.type === '#commit')
  let state: CommitState = { rev: null, data: null }
  for (const event of commits) state = await checkCommitEvent(event.body, account, state)
  const last = commits[commits.length - 1]!.body
  return (last.ops as { action: string; path: string; cid: { toString(): string } | null }[]).map(
    (op) => [op.action, op.path.split('/')[1], op.cid?.toString() ?? null],
  )
}

async function expectIndexMatchesTree(account: TestAccount) {
  const rows = await recordRows(account.did)
  const tree = await mstContents(account.stub)
  expect(new Map(rows.map((r) => [`${r.collection}/${r.rkey}`, r.cid]))).toEqual(tree)
}

describe('several writes to one key in a commit', () => {
  it('commits the net effect per key, as ops a relay accepts, and indexes the same', async () => {
    const account = await createTestAccount()
    ok(await account.stub.applyWrites({ writes: [create('kept'), create('gone'), create('swap')] }))
    const result = ok(
      await account.stub.applyWrites({
        writes: [
          create('brief'),
          remove('brief'),
          create('grown'),
          update('grown', 'grown v2'),
          update('gone', 'gone v2'),
          remove('gone'),
          remove('swap'),
          create('swap', 'swap v2'),
        ],
      }),
    )
    // One result per write, in order.
    expect(result.results.map((r) => `${r.action} ${r.uri.split('/').pop()}`)).toEqual([
      'create brief',
      'delete brief',
      'create grown',
      'update grown',
      'update gone',
      'delete gone',
      'delete swap',
      'create swap',
    ])
    const grown = result.results[3]!.cid!
    const swap = result.results[7]!.cid!
    expect(await lastCommitChecked(account)).toEqual([
      ['create', 'grown', grown],
      ['delete', 'gone', null],
      ['update', 'swap', swap],
    ])
    const tree = await mstContents(account.stub)
    expect([...tree.keys()].map((k) => k.split('/')[1])).toEqual(['grown', 'kept', 'swap'])
    expect(tree.get(`${POSTS}/grown`)).toBe(grown)
    await expectIndexMatchesTree(account)
  })

  it('commits a create and delete of a new key as a commit with no ops', async () => {
    const account = await createTestAccount()
    const before = (await account.stub.getHead())!
    const result = ok(await account.stub.applyWrites({ writes: [create('x'), remove('x')] }))
    expect(result.commit.rev > before.rev).toBe(true)
    expect(await lastCommitChecked(account)).toEqual([])
    expect(await mstContents(account.stub)).toEqual(new Map())
    await expectIndexMatchesTree(account)
  })

  it('still refuses a second create of a key the commit created', async () => {
    const account = await createTestAccount()
    const refused = await account.stub.applyWrites({ writes: [create('x'), create('x')] })
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.name).toBe('RecordAlreadyExists')
  })

  it('is accepted over XRPC', async () => {
    const alice = await createXrpcAccount('samekey')
    const res = await xrpcPost(
      'com.atproto.repo.applyWrites',
      {
        repo: alice.did,
        writes: [
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: POSTS,
            rkey: ONCE,
            value: { $type: POSTS, text: 'x', createdAt: new Date().toISOString() },
          },
          { $type: 'com.atproto.repo.applyWrites#delete', collection: POSTS, rkey: ONCE },
        ],
      },
      alice.accessJwt,
    )
    expect(res.status).toBe(200)
    expect((res.body.results as { $type: string }[]).map((r) => r.$type)).toEqual([
      'com.atproto.repo.applyWrites#createResult',
      'com.atproto.repo.applyWrites#deleteResult',
    ])
  })
})
