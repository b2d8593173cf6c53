import { evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { parseCommit } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import type { AccountDurableObject } from '../../worker/account-durable-object.ts'
import {
  type CommitState,
  checkCommitEvent,
  createTestAccount,
  eventsOf,
  ok,
  post,
  recordRows,
} from './account-helpers.ts'

const POSTS = 'app.bsky.feed.post'
const RECORDS = 3000

describe('account repo: cost follows the change', () => {
  it('reads O(log n) blocks for a write into a repo of a few thousand records', async () => {
    const account = await createTestAccount()
    const { stub } = account
    for (let batch = 0; batch < RECORDS / 200; batch++) {
      ok(
        await stub.applyWrites({
          writes: Array.from({ length: 200 }, (_, i) => ({
            action: 'create' as const,
            collection: POSTS,
            rkey: `r${String(batch * 200 + i).padStart(6, '0')}`,
            record: post(`${batch}/${i}`),
          })),
        }),
      )
    }
    expect((await recordRows(account.did)).length).toBe(RECORDS)

    const nodeCount = await runInDurableObject(stub, async (instance: AccountDurableObject) => {
      const commit = parseCommit(instance.account.getBlock(instance.account.getHead()!.cid)!)
      let nodes = 0
      for await (const _ of Mst.load(instance.account.blocks, commit.data).walkBlocks()) nodes++
      return nodes
    })
    expect(nodeCount).toBeGreaterThan(500)

    // A cold object: nothing of the tree is in memory.
    await evictDurableObject(stub)
    const readsOf = async (rkey: string, action: 'create' | 'update' | 'delete') => {
      const before = await runInDurableObject(
        stub,
        (i: AccountDurableObject) => i.account.blocks.reads,
      )
      ok(
        await stub.applyWrites({
          writes: [
            action === 'delete'
              ? { action, collection: POSTS, rkey }
              : { action, collection: POSTS, rkey, record: post(`${action} ${rkey}`) },
          ],
        }),
      )
      const after = await runInDurableObject(
        stub,
        (i: AccountDurableObject) => i.account.blocks.reads,
      )
      return after - before
    }
    const cold = await readsOf('r001500x', 'create')
    const warm = await readsOf('r002500x', 'create')
    const update = await readsOf('r000042', 'update')
    const remove = await readsOf('r000777', 'delete')
    // The tree is about log4(3000) ≈ 6 levels deep and has over 800 nodes; a write reads the
    // nodes on its key's path and the neighbours its proof needs (7 when measured, cold).
    for (const reads of [cold, warm, update, remove]) {
      expect(reads).toBeGreaterThan(0)
      expect(reads).toBeLessThanOrEqual(20)
    }

    // The commits still verify and invert.
    const commits = (await eventsOf(account.did)).filter((e) => e.type === '#commit')
    let state: CommitState = { rev: null, data: null }
    for (const event of commits) state = await checkCommitEvent(event.body, account, state)
    expect(commits.length).toBe(RECORDS / 200 + 5)
  })
})
