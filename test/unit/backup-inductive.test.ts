/**
 * The backup follower's inductive check (cli/backup/inductive.ts) on commits crafted with the
 * repo core: a well-formed chain applies and gives the same repo as building it directly; a
 * bad signature, a wrong prevData or since, ops that do not give the commit's tree, a missing
 * record block, each is refused and leaves the local copy as it was.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  applyCommitEvent,
  type CommitEvent,
  CommitRejectedError,
  type RepoOp,
} from '../../cli/backup/inductive.ts'
import { LocalRepo } from '../../cli/client/local-repo.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { encodeCborBlock } from '../../src/data/cbor.ts'
import type { CID } from '../../src/data/cid.ts'
import { BlockMap } from '../../src/repo/block-map.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { encodeCarBytes } from '../../src/repo/car.ts'
import { commitToBlock, signCommit } from '../../src/repo/commit.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import { nextTid } from '../../src/syntax/tid.ts'

const DID = 'did:plc:inductivetest0000000000a'

type Write =
  | { action: 'create' | 'update'; path: string; value: Record<string, unknown> }
  | { action: 'delete'; path: string }

interface Crafted {
  event: CommitEvent
  /** Blocks of the event's CAR, to be altered before encoding. */
  blocks: BlockMap
  commit: { cid: CID; data: CID }
}

let key: Secp256k1Keypair
let other: Secp256k1Keypair
let seq = 0

beforeAll(async () => {
  key = await Secp256k1Keypair.create()
  other = await Secp256k1Keypair.create()
})

const post = (text: string) => ({
  $type: 'app.bsky.feed.post',
  text,
  createdAt: '2026-01-01T00:00:00Z',
})

/** A repo of `n` posts, as the backup would hold it after a full fetch. */
async function genesis(n: number): Promise<LocalRepo> {
  const store = new MemoryBlockStore()
  let tree = Mst.create(store)
  const blocks = new BlockMap()
  for (let i = 0; i < n; i++) {
    const record = await encodeCborBlock(post(`post ${i}`))
    blocks.set(record.cid, record.bytes)
    tree = await tree.add(`app.bsky.feed.post/3k${String(i).padStart(11, 'a')}`, record.cid)
  }
  blocks.addMap(await tree.collectNewBlocks())
  const commit = await commitToBlock(
    await signCommit(
      { did: DID, version: 3, data: await tree.rootCid(), rev: nextTid(), prev: null },
      key,
    ),
  )
  blocks.set(commit.cid, commit.bytes)
  return LocalRepo.fromCar(await encodeCarBytes(commit.cid, blocks))
}

/** The commit a PDS would emit for `writes` on top of `local`, signed by `signer`. */
async function craft(local: LocalRepo, writes: Write[], signer = key): Promise<Crafted> {
  let tree = local.mst()
  const blocks = new BlockMap()
  const ops: RepoOp[] = []
  for (const write of writes) {
    const prev = (await tree.get(write.path)) ?? undefined
    if (write.action === 'delete') {
      tree = await tree.delete(write.path)
      ops.push({ action: 'delete', path: write.path, cid: null, prev })
      continue
    }
    const record = await encodeCborBlock(write.value)
    blocks.set(record.cid, record.bytes)
    tree =
      write.action === 'create'
        ? await tree.add(write.path, record.cid)
        : await tree.update(write.path, record.cid)
    ops.push({ action: write.action, path: write.path, cid: record.cid, ...(prev ? { prev } : {}) })
  }
  blocks.addMap(await tree.collectNewBlocks())
  const data = await tree.rootCid()
  const rev = nextTid(local.rev)
  const commit = await commitToBlock(
    await signCommit({ did: DID, version: 3, data, rev, prev: null }, signer),
  )
  blocks.set(commit.cid, commit.bytes)
  const event: CommitEvent = {
    seq: ++seq,
    repo: DID,
    commit: commit.cid,
    rev,
    since: local.rev,
    blocks: await encodeCarBytes(commit.cid, blocks),
    ops,
    prevData: local.data,
    tooBig: false,
  }
  return { event, blocks, commit: { cid: commit.cid, data } }
}

async function rejection(promise: Promise<unknown>): Promise<CommitRejectedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CommitRejectedError)
  return err as CommitRejectedError
}

describe('inductive commit check', () => {
  it('applies a chain of creates, updates and deletes to the same repo the writer built', async () => {
    let local = await genesis(40)
    const paths = [...(await local.records()).keys()]
    const steps: Write[][] = [
      [{ action: 'create', path: 'app.bsky.feed.post/3kzzzzzzzzzz2', value: post('new') }],
      [{ action: 'update', path: paths[3]!, value: post('edited') }],
      [{ action: 'delete', path: paths[10]! }],
      [
        { action: 'delete', path: paths[0]! },
        {
          action: 'create',
          path: 'app.bsky.feed.like/3kzzzzzzzzzz3',
          value: { $type: 'app.bsky.feed.like' },
        },
        { action: 'update', path: paths[20]!, value: post('again') },
      ],
      [],
    ]
    for (const writes of steps) {
      const crafted = await craft(local, writes)
      const { repo, written } = await applyCommitEvent(local, crafted.event, key.did())
      expect(repo.commitCid.equals(crafted.commit.cid)).toBe(true)
      expect(repo.data.equals(crafted.commit.data)).toBe(true)
      expect(written.map((w) => w.path)).toEqual(
        writes.filter((w) => w.action !== 'delete').map((w) => w.path),
      )
      local = repo
    }
    const records = await local.records()
    expect(records.size).toBe(40)
    expect(records.has(paths[10]!)).toBe(false)
    // The saved CAR is a whole repo on its own.
    const reread = await LocalRepo.fromCar(await local.toCar())
    expect(await reread.records()).toEqual(records)
  })

  it('refuses a commit whose signature is not by the DID key', async () => {
    const local = await genesis(5)
    const { event } = await craft(
      local,
      [{ action: 'create', path: 'app.bsky.feed.post/3kzzzzzzzzzz2', value: post('x') }],
      other,
    )
    const err = await rejection(applyCommitEvent(local, event, key.did()))
    expect(err.kind).toBe('invalid')
    expect(err.message).toMatch(/signature does not verify/)
  })

  it('refuses a commit whose signature bytes were altered', async () => {
    const local = await genesis(5)
    const crafted = await craft(local, [
      { action: 'create', path: 'app.bsky.feed.post/3kzzzzzzzzzz2', value: post('x') },
    ])
    const signed = await signCommit(
      { did: DID, version: 3, data: crafted.commit.data, rev: crafted.event.rev, prev: null },
      key,
    )
    signed.sig[5]! ^= 0x01
    const tampered = await commitToBlock(signed)
    crafted.blocks.delete(crafted.commit.cid)
    crafted.blocks.set(tampered.cid, tampered.bytes)
    const event = {
      ...crafted.event,
      commit: tampered.cid,
      blocks: await encodeCarBytes(tampered.cid, crafted.blocks),
    }
    const err = await rejection(applyCommitEvent(local, event, key.did()))
    expect(err.message).toMatch(/signature does not verify/)
  })

  it('refuses a prevData that is not the local tree, and a since that is not the local rev', async () => {
    const local = await genesis(5)
    const first = await craft(local, [
      { action: 'create', path: 'app.bsky.feed.post/3kzzzzzzzzzz2', value: post('x') },
    ])
    const wrongData = { ...first.event, prevData: first.commit.data }
    expect((await rejection(applyCommitEvent(local, wrongData, key.did()))).message).toMatch(
      /prevData .* is not the local tree's root/,
    )
    const missing = { ...first.event, prevData: undefined }
    expect((await rejection(applyCommitEvent(local, missing, key.did()))).message).toMatch(
      /no prevData/,
    )

    // The second of two commits, the first missed: a gap.
    const applied = (await applyCommitEvent(local, first.event, key.did())).repo
    const second = await craft(applied, [
      { action: 'delete', path: 'app.bsky.feed.post/3kzzzzzzzzzz2' },
    ])
    const gap = await rejection(applyCommitEvent(local, second.event, key.did()))
    expect(gap.kind).toBe('gap')
  })

  it('refuses ops that do not give the signed tree', async () => {
    const local = await genesis(8)
    const paths = [...(await local.records()).keys()]
    const crafted = await craft(local, [{ action: 'delete', path: paths[2]! }])
    // The op list hides the delete: the signed tree no longer follows from the ops.
    const hidden = { ...crafted.event, ops: [] }
    expect((await rejection(applyCommitEvent(local, hidden, key.did()))).message).toMatch(
      /ops applied to the local tree give/,
    )
    // An update naming a prev the local copy does not have.
    const update = await craft(local, [{ action: 'update', path: paths[1]!, value: post('y') }])
    const wrongPrev = {
      ...update.event,
      ops: [{ ...update.event.ops[0]!, prev: local.commitCid }],
    }
    expect((await rejection(applyCommitEvent(local, wrongPrev, key.did()))).message).toMatch(
      /names another prev/,
    )
  })

  it('refuses a commit whose record block is missing, and a tooBig one', async () => {
    const local = await genesis(3)
    const crafted = await craft(local, [
      { action: 'create', path: 'app.bsky.feed.post/3kzzzzzzzzzz2', value: post('z') },
    ])
    const recordCid = crafted.event.ops[0]!.cid!
    crafted.blocks.delete(recordCid)
    const event = {
      ...crafted.event,
      blocks: await encodeCarBytes(crafted.commit.cid, crafted.blocks),
    }
    expect((await rejection(applyCommitEvent(local, event, key.did()))).message).toMatch(
      /lack the record/,
    )
    const tooBig = await rejection(
      applyCommitEvent(local, { ...crafted.event, tooBig: true }, key.did()),
    )
    expect(tooBig.kind).toBe('unverifiable')
    // Nothing above changed the local copy.
    expect((await local.records()).size).toBe(3)
  })
})
