/**
 * The independent check: repositories our code builds are accepted by @atproto/repo's
 * verifier, and repositories @atproto/repo builds are read and verified by ours.
 */
import { Secp256k1Keypair as AtprotoKeypair } from '@atproto/crypto'
import {
  verifyRepoCar as atprotoVerifyRepoCar,
  getFullRepo,
  MemoryBlockstore,
  Repo,
  WriteOpAction,
} from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { encodeCborBlock } from '../../src/data/cbor.ts'
import { ipldToJson } from '../../src/data/json.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { encodeCarBytes } from '../../src/repo/car.ts'
import { commitToBlock, signCommit } from '../../src/repo/commit.ts'
import { exportRepoBlocks } from '../../src/repo/export.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import { RepoVerificationError, verifyRepoCar } from '../../src/repo/verify.ts'
import { nextTid } from '../../src/syntax/index.ts'

const DID = 'did:plc:interoptest0000000000000'

function samplePosts(n: number): Array<{ collection: string; rkey: string; record: unknown }> {
  return Array.from({ length: n }, (_, i) => ({
    collection: i % 3 === 0 ? 'app.bsky.feed.like' : 'app.bsky.feed.post',
    rkey: nextTid(),
    record:
      i % 3 === 0
        ? {
            $type: 'app.bsky.feed.like',
            subject: { uri: `at://${DID}/app.bsky.feed.post/${nextTid()}`, cid: 'bafyreib' },
            createdAt: '2026-11-24T12:00:00.000Z',
          }
        : {
            $type: 'app.bsky.feed.post',
            text: `post number ${i} ✨`,
            createdAt: new Date(0).toISOString(),
          },
  }))
}

async function buildOurRepo(keypair: Secp256k1Keypair, count: number) {
  const store = new MemoryBlockStore()
  const records = samplePosts(count)
  let mst = Mst.create(store)
  for (const { collection, rkey, record } of records) {
    const block = await encodeCborBlock(record)
    store.put(block.cid, block.bytes)
    mst = await mst.add(`${collection}/${rkey}`, block.cid)
  }
  store.putMany(await mst.collectNewBlocks())
  const commit = await signCommit(
    { did: DID, version: 3, data: await mst.rootCid(), rev: nextTid(), prev: null },
    keypair,
  )
  const commitBlock = await commitToBlock(commit)
  store.put(commitBlock.cid, commitBlock.bytes)
  const car = await encodeCarBytes(commitBlock.cid, exportRepoBlocks(store, commitBlock.cid))
  return { car, records, commitCid: commitBlock.cid }
}

describe('interop with @atproto/repo', () => {
  it('a repo our code builds verifies with @atproto/repo', async () => {
    const keypair = await Secp256k1Keypair.create()
    const { car, records, commitCid } = await buildOurRepo(keypair, 250)
    const verified = await atprotoVerifyRepoCar(car, DID, keypair.did())
    expect(verified.commit.cid.toString()).toBe(commitCid.toString())
    expect(verified.creates).toHaveLength(records.length)
    const theirs = new Set(verified.creates.map((c) => `${c.collection}/${c.rkey}`))
    expect(theirs).toEqual(new Set(records.map((r) => `${r.collection}/${r.rkey}`)))
    // ...and ours agrees with itself on the same bytes
    const ours = await verifyRepoCar(car, { did: DID, signingKey: keypair.did() })
    expect(ours.records).toHaveLength(records.length)
  })

  it('@atproto/repo rejects our repo under another signing key', async () => {
    const keypair = await Secp256k1Keypair.create()
    const other = await Secp256k1Keypair.create()
    const { car } = await buildOurRepo(keypair, 10)
    await expect(atprotoVerifyRepoCar(car, DID, other.did())).rejects.toThrow()
  })

  it('a repo @atproto/repo builds is read and verified by ours', async () => {
    const keypair = await AtprotoKeypair.create()
    const storage = new MemoryBlockstore()
    const posts = samplePosts(120)
    const repo = await Repo.create(
      storage,
      DID,
      keypair,
      posts.map((p) => ({
        action: WriteOpAction.Create,
        collection: p.collection as `${string}.${string}.${string}`,
        rkey: p.rkey,
        record: p.record as never,
      })),
    )
    const chunks: Uint8Array[] = []
    for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk)
    const car = new Uint8Array(Buffer.concat(chunks))

    const verified = await verifyRepoCar(car, { did: DID, signingKey: keypair.did() })
    expect(verified.commitCid.toString()).toBe(repo.cid.toString())
    expect(verified.records).toHaveLength(posts.length)
    const byKey = new Map(verified.records.map((r) => [`${r.collection}/${r.rkey}`, r.value]))
    for (const post of posts) {
      expect(ipldToJson(byKey.get(`${post.collection}/${post.rkey}`))).toEqual(post.record)
    }
    await expect(
      verifyRepoCar(car, { did: DID, signingKey: (await AtprotoKeypair.create()).did() }),
    ).rejects.toThrow(RepoVerificationError)
  })

  it('verifies the reference PDS export of a real repo', async () => {
    const { readFileSync } = await import('node:fs')
    const facts = JSON.parse(
      readFileSync(new URL('../fixtures/reference-pds/README-facts.json', import.meta.url), 'utf8'),
    )
    const car = new Uint8Array(
      readFileSync(new URL('../fixtures/reference-pds/repo-alice.car', import.meta.url)),
    )
    const verified = await verifyRepoCar(car, {
      did: facts.aliceDid,
      signingKey: facts.aliceSigningKey,
    })
    expect(verified.commitCid.toString()).toBe(facts.latestCommit.cid)
    expect(verified.commit.rev).toBe(facts.latestCommit.rev)
    const rkeys = new Set(verified.records.map((r) => r.rkey))
    expect(rkeys.has(facts.deletedRkey)).toBe(false)
    expect(rkeys.has(facts.postRkeys[0])).toBe(true)
    await expect(verifyRepoCar(car, { signingKey: facts.bobSigningKey })).rejects.toThrow(
      RepoVerificationError,
    )
  })
})
