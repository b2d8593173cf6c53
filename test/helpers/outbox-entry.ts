/**
 * An outbox entry for a one-post commit and the commit's blocks, as the writer would append
 * it: for tests of the outbox (test/unit/account-object.test.ts, test/worker/account-outbox).
 */
import { commitEventBody } from '../../src/account/events.ts'
import type { OutboxEntry } from '../../src/account/outbox.ts'
import { encodeCborBlock } from '../../src/data/cbor.ts'
import { BlockMap } from '../../src/repo/block-map.ts'

export async function commitEntry(
  text: string,
  rev: string,
): Promise<{ entry: OutboxEntry; blocks: BlockMap }> {
  const record = await encodeCborBlock({
    $type: 'app.bsky.feed.post',
    text,
    createdAt: '2024-01-01T00:00:00.000Z',
  })
  const commit = await encodeCborBlock({ did: 'did:plc:outbox', version: 3, rev, data: record.cid })
  const blocks = new BlockMap().set(commit.cid, commit.bytes).set(record.cid, record.bytes)
  const path = `app.bsky.feed.post/${rev}`
  const entry: OutboxEntry = {
    event: {
      type: '#commit',
      body: commitEventBody({
        repo: 'did:plc:outbox',
        commit: commit.cid,
        rev,
        since: null,
        ops: [{ action: 'create', path, cid: record.cid }],
        prevData: null,
        time: '2024-01-01T00:00:00.000Z',
      }),
    },
    car: [commit.cid, record.cid],
    commit: {
      cid: commit.cid.toString(),
      rev,
      ops: [
        {
          action: 'create',
          collection: 'app.bsky.feed.post',
          rkey: rev,
          cid: record.cid.toString(),
        },
      ],
    },
  }
  return { entry, blocks }
}
