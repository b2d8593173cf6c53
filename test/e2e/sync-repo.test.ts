/**
 * The sync read methods end to end, checked with @atproto/repo (an independent
 * implementation): getRepo CARs verify with the account's key, `since` CARs are exactly the
 * diff the consumer computes, and getRecord proofs verify (inclusion and absence).
 */
import { AtpAgent } from '@atproto/api'
import { type IdentityResolverOpts, IdResolver } from '@atproto/identity'
import {
  MemoryBlockstore,
  Repo,
  readCarWithRoot,
  verifyDiffCar,
  verifyProofs,
  verifyRecords,
  verifyRepoCar,
} from '@atproto/repo'
import { describe, expect, inject, it } from 'vitest'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const password = 'correct horse battery staple'
const idResolver = new IdResolver({
  plcUrl,
  fetch: globalThis.fetch as IdentityResolverOpts['fetch'],
})

async function newAgent(prefix: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password })
  return agent
}

async function car(nsid: string, params: Record<string, string>): Promise<Uint8Array> {
  const res = await fetch(`${pdsUrl}/xrpc/${nsid}?${new URLSearchParams(params)}`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/vnd.ipld.car')
  return new Uint8Array(await res.arrayBuffer())
}

const post = (text: string) => ({
  $type: 'app.bsky.feed.post' as const,
  text,
  createdAt: new Date().toISOString(),
})
const rkeyOf = (uri: string) => uri.split('/').pop()!

describe('sync reads checked by @atproto/repo', () => {
  it('exports repos that verify, and since-diffs the consumer applies exactly', async () => {
    const agent = await newAgent('syncx')
    const did = agent.session!.did
    const key = await idResolver.did.resolveAtprotoKey(did)
    const first: { uri: string; cid: string }[] = []
    for (let i = 0; i < 30; i++) first.push(await agent.post(post(`first ${i}`)))
    const atSince = await car('com.atproto.sync.getRepo', { did })
    const since = (await agent.com.atproto.sync.getLatestCommit({ did })).data.rev

    const second: { uri: string; cid: string }[] = []
    for (let i = 0; i < 10; i++) second.push(await agent.post(post(`second ${i}`)))
    await agent.com.atproto.repo.putRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      rkey: rkeyOf(first[0]!.uri),
      record: post('edited'),
    })
    await agent.deletePost(first[1]!.uri)

    const full = await verifyRepoCar(await car('com.atproto.sync.getRepo', { did }), did, key)
    expect(full.creates).toHaveLength(39)
    const latest = (await agent.com.atproto.sync.getLatestCommit({ did })).data
    expect(full.commit.cid.toString()).toBe(latest.cid)
    expect(full.commit.rev).toBe(latest.rev)

    const before = await readCarWithRoot(atSince)
    const repoAtSince = await Repo.load(new MemoryBlockstore(before.blocks), before.root)
    const diffCar = await car('com.atproto.sync.getRepo', { did, since })
    const diff = await verifyDiffCar(repoAtSince, diffCar, did, key)
    const writes = diff.writes.map((w) => `${w.action} ${w.rkey}`).sort()
    expect(writes).toEqual(
      [
        ...second.map((p) => `create ${rkeyOf(p.uri)}`),
        `update ${rkeyOf(first[0]!.uri)}`,
        `delete ${rkeyOf(first[1]!.uri)}`,
      ].sort(),
    )
    // Exactly the blocks the consumer needed: nothing missing, nothing extra.
    const sent = (await readCarWithRoot(diffCar)).blocks
    const needed = diff.commit.newBlocks
    expect(
      sent
        .cids()
        .map((c) => c.toString())
        .sort(),
    ).toEqual(
      needed
        .cids()
        .map((c) => c.toString())
        .sort(),
    )
  })

  it('serves record proofs that verify, for present and deleted records', async () => {
    const agent = await newAgent('syncp')
    const did = agent.session!.did
    const key = await idResolver.did.resolveAtprotoKey(did)
    const posts: { uri: string; cid: string }[] = []
    for (let i = 0; i < 20; i++) posts.push(await agent.post(post(`proof ${i}`)))
    await agent.deletePost(posts[4]!.uri)

    const present = await car('com.atproto.sync.getRecord', {
      did,
      collection: 'app.bsky.feed.post',
      rkey: rkeyOf(posts[9]!.uri),
    })
    const records = await verifyRecords(present, did, key)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ rkey: rkeyOf(posts[9]!.uri), record: { text: 'proof 9' } })

    const absent = await car('com.atproto.sync.getRecord', {
      did,
      collection: 'app.bsky.feed.post',
      rkey: rkeyOf(posts[4]!.uri),
    })
    const claims = [{ collection: 'app.bsky.feed.post', rkey: rkeyOf(posts[4]!.uri), cid: null }]
    const checked = await verifyProofs(absent, claims, did, key)
    expect(checked.verified).toHaveLength(1)
    expect(checked.unverified).toHaveLength(0)
    // The deleted record is not in the proof.
    const blocks = (await readCarWithRoot(absent)).blocks
    expect(blocks.cids().some((c) => c.toString() === posts[4]!.cid)).toBe(false)
  })
})
