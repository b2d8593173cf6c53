/**
 * The repo blocks total of the admin overview: the Cron Trigger's job measures the repos that
 * changed since their last measurement (and only those) into D1's `repo_size`, drops the rows
 * of deleted repos, and the overview's totals sum that table.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { measureRepoSizes, repoBlockTotals } from '../../src/admin/repo-sizes.ts'
import { accountStub } from '../../src/bindings.ts'
import { getDb } from '../../src/db/index.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import { adminPost } from './helpers/admin.ts'
import { createTestAccount, xrpcPost } from './helpers/xrpc.ts'

async function sizeRow(did: string) {
  return env.DB.prepare('SELECT blocks, block_bytes, measured_at FROM repo_size WHERE did = ?')
    .bind(did)
    .first<{ blocks: number; block_bytes: number; measured_at: string }>()
}

/** What the account object's SQLite holds, read in the object. */
async function storedInObject(did: string): Promise<{ blocks: number; bytes: number }> {
  return runInDurableObject(accountStub(env, did), (_: AccountDurableObject, state) => {
    const row = state.storage.sql
      .exec<{ blocks: number; bytes: number }>(
        'SELECT count(*) AS blocks, sum(length(bytes)) AS bytes FROM block',
      )
      .one()
    return { blocks: row.blocks, bytes: row.bytes }
  })
}

describe('repo block sizes', () => {
  it('measures changed repos into D1, and the overview sums them', async () => {
    const alice = await createTestAccount('size')
    const bob = await createTestAccount('sizeb')
    await measureRepoSizes(env)
    const first = await sizeRow(alice.did)
    expect(first).toMatchObject(
      await storedInObject(alice.did).then((s) => ({ blocks: s.blocks, block_bytes: s.bytes })),
    )
    expect(first!.block_bytes).toBeGreaterThan(0)

    // Nothing changed: nothing measured again.
    expect(await measureRepoSizes(env)).toBe(0)

    // A write makes alice's repo stale; only hers is measured.
    for (let i = 0; i < 3; i++) {
      const res = await xrpcPost(
        'com.atproto.repo.createRecord',
        {
          repo: alice.did,
          collection: 'app.bsky.feed.post',
          record: { text: `post ${i} ${'x'.repeat(250)}`, createdAt: new Date().toISOString() },
        },
        alice.accessJwt,
      )
      expect(res.status).toBe(200)
    }
    expect(await measureRepoSizes(env)).toBe(1)
    const grown = await sizeRow(alice.did)
    expect(grown!.block_bytes).toBeGreaterThan(first!.block_bytes + 750)
    expect(grown!.block_bytes).toBe((await storedInObject(alice.did)).bytes)

    const totals = await repoBlockTotals(getDb(env.DB))
    const rows = await env.DB.prepare(
      'SELECT sum(blocks) AS blocks, sum(block_bytes) AS bytes, count(*) AS n FROM repo_size',
    ).first<{ blocks: number; bytes: number; n: number }>()
    expect(totals).toMatchObject({ blocks: rows!.blocks, bytes: rows!.bytes, measured: rows!.n })
    expect(totals.measured).toBe(totals.repos)

    // A deleted repo's row goes.
    expect((await adminPost('com.atproto.admin.deleteAccount', { did: bob.did })).status).toBe(200)
    await measureRepoSizes(env)
    expect(await sizeRow(bob.did)).toBeNull()
  })
})
