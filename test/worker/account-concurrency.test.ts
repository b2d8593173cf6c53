import { describe, expect, it } from 'vitest'
import {
  type CommitState,
  checkCommitEvent,
  createTestAccount,
  eventsOf,
  mstContents,
  ok,
  patchSinks,
  post,
  recordRows,
  repoRoot,
} from './account-helpers.ts'

const POSTS = 'app.bsky.feed.post'

describe('account repo: concurrent writes', () => {
  it('turns 50 concurrent writes into one chain of 50 commits', async () => {
    const sequencerCalls: number[] = []
    const account = await createTestAccount()
    const { stub, did } = account
    await patchSinks(stub, (sinks) => ({
      sequencer: {
        appendEvents: (d, events) => {
          sequencerCalls.push(events.length)
          return sinks.sequencer.appendEvents(d, events)
        },
      },
    }))
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stub.applyWrites({
          writes: [
            {
              action: 'create',
              collection: POSTS,
              rkey: `c${String(i).padStart(3, '0')}`,
              record: post(`${i}`),
            },
          ],
        }),
      ),
    )
    const written = results.map(ok)
    expect(written.every((w) => w.indexed)).toBe(true)
    const revs = written.map((w) => w.commit.rev)
    expect(new Set(revs).size).toBe(50)

    const commits = (await eventsOf(did)).filter((e) => e.type === '#commit').map((e) => e.body)
    expect(commits.length).toBe(51)
    let state: CommitState = { rev: null, data: null }
    for (const body of commits) state = await checkCommitEvent(body, account, state)
    // Each commit builds on the one before, and the event order is the rev order.
    const eventRevs = commits.slice(1).map((c) => c.rev as string)
    expect(eventRevs).toEqual([...revs].sort())
    commits.slice(1).forEach((c, i) => {
      expect(c.since).toBe(commits[i]!.rev)
    })

    // Writes committed while a delivery was in flight shared the next one.
    expect(sequencerCalls.reduce((a, b) => a + b, 0)).toBe(50)
    expect(sequencerCalls.length).toBeLessThan(50)

    expect((await mstContents(stub)).size).toBe(50)
    expect((await recordRows(did)).length).toBe(50)
    expect(await repoRoot(did)).toEqual(await stub.getHead())
  })

  it('lets exactly one of two updates with the same swapRecord win', async () => {
    const account = await createTestAccount()
    const { stub, did } = account
    const created = ok(
      await stub.applyWrites({
        writes: [{ action: 'create', collection: POSTS, rkey: 'race', record: post('v0') }],
      }),
    )
    const swapRecord = created.results[0]!.cid!
    const attempts = await Promise.all(
      ['v1', 'v2', 'v3'].map((text) =>
        stub.applyWrites({
          writes: [
            { action: 'update', collection: POSTS, rkey: 'race', record: post(text), swapRecord },
          ],
        }),
      ),
    )
    const winners = attempts.filter((a) => a.ok)
    const losers = attempts.filter((a) => !a.ok)
    expect(winners.length).toBe(1)
    expect(losers.length).toBe(2)
    for (const loser of losers)
      expect(loser).toMatchObject({ ok: false, error: { name: 'InvalidSwap' } })
    const winner = ok(winners[0]!)
    const [row] = await recordRows(did)
    expect(row!.cid).toBe(winner.results[0]!.cid)
    expect((await eventsOf(did)).filter((e) => e.type === '#commit').length).toBe(3)
  })

  it('refuses a stale swapCommit among concurrent writes', async () => {
    const account = await createTestAccount()
    const head = (await account.stub.getHead())!
    const attempts = await Promise.all(
      ['a', 'b'].map((rkey) =>
        account.stub.applyWrites({
          writes: [{ action: 'create', collection: POSTS, rkey, record: post(rkey) }],
          swapCommit: head.cid,
        }),
      ),
    )
    expect(attempts.filter((a) => a.ok).length).toBe(1)
    expect(attempts.filter((a) => !a.ok)[0]).toMatchObject({ error: { name: 'InvalidSwap' } })
  })
})
