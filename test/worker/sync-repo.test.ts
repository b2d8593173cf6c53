/**
 * com.atproto.sync repo methods through XRPC: getRepo (whole and `since`), getCheckout,
 * getRecord proofs, getBlocks, getLatestCommit, getHead, getRepoStatus, listRepos, and the
 * status errors of deactivated, taken-down and unknown repos.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../src/data/cbor.ts'
import { CID } from '../../src/data/cid.ts'
import { MemoryBlockStore } from '../../src/repo/block-store.ts'
import { readCar } from '../../src/repo/car.ts'
import { parseCommit, verifyCommitSignature } from '../../src/repo/commit.ts'
import { cidString, nodeLinks } from '../../src/repo/export-stream.ts'
import { Mst } from '../../src/repo/mst/index.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import { BASE, createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const post = (text: string) => ({
  $type: 'app.bsky.feed.post',
  text,
  createdAt: '2026-11-24T12:00:00.000Z',
})

type WriteBody = { uri: string; cid: string; commit: { cid: string; rev: string } }

async function createPost(
  account: TestAccount,
  text: string,
): Promise<WriteBody & { rkey: string }> {
  const res = await xrpcPost<WriteBody>(
    'com.atproto.repo.createRecord',
    { repo: account.did, collection: 'app.bsky.feed.post', record: post(text) },
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return { ...res.body, rkey: res.body.uri.split('/').pop()! }
}

async function getCar(
  nsid: string,
  params: Record<string, string | string[]>,
): Promise<{ status: number; bytes: Uint8Array; type: string | null }> {
  const url = new URL(`${BASE}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v)
  }
  const res = await SELF.fetch(url)
  return {
    status: res.status,
    bytes: new Uint8Array(await res.arrayBuffer()),
    type: res.headers.get('content-type'),
  }
}

async function blocksOf(
  car: Uint8Array,
): Promise<{ roots: CID[]; blocks: Map<string, Uint8Array> }> {
  const { roots, blocks } = await readCar(car)
  return { roots, blocks: new Map(blocks) }
}

async function signingKeyOf(did: string): Promise<string> {
  const row = await env.DB.prepare('SELECT signing_key_did AS key FROM account WHERE did = ?')
    .bind(did)
    .first<{ key: string }>()
  return row!.key
}

describe('getRepo', () => {
  it('exports a repo that verifies, rooted at the latest commit; getCheckout is the same', async () => {
    const alice = await createTestAccount('export')
    const posts = []
    for (let i = 0; i < 12; i++) posts.push(await createPost(alice, `post ${i}`))
    await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: alice.did, collection: 'app.bsky.feed.post', rkey: posts[3]!.rkey },
      alice.accessJwt,
    )
    const latest = await xrpcGet<{ cid: string; rev: string }>('com.atproto.sync.getLatestCommit', {
      did: alice.did,
    })
    expect(latest.status).toBe(200)

    const res = await getCar('com.atproto.sync.getRepo', { did: alice.did })
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/vnd.ipld.car')
    const repo = await verifyRepoCar(res.bytes, {
      did: alice.did,
      signingKey: await signingKeyOf(alice.did),
    })
    expect(repo.commitCid.toString()).toBe(latest.body.cid)
    expect(repo.commit.rev).toBe(latest.body.rev)
    expect(repo.records.map((r) => r.rkey).sort()).toEqual(
      posts
        .filter((_, i) => i !== 3)
        .map((p) => p.rkey)
        .sort(),
    )
    // Nothing but the repo: no deleted record, no old commit.
    const { blocks } = await blocksOf(res.bytes)
    expect(blocks.has(posts[3]!.cid)).toBe(false)
    expect(blocks.has(posts[0]!.commit.cid)).toBe(false)

    const checkout = await getCar('com.atproto.sync.getCheckout', { did: alice.did })
    expect(checkout.status).toBe(200)
    expect(checkout.bytes).toEqual(res.bytes)
    const head = await xrpcGet('com.atproto.sync.getHead', { did: alice.did })
    expect(head.body).toEqual({ root: latest.body.cid })
  })

  it('with since, gives exactly the blocks that are new after that rev', async () => {
    const bob = await createTestAccount('since')
    const early = []
    for (let i = 0; i < 20; i++) early.push(await createPost(bob, `early ${i}`))
    const since = early.at(-1)!.commit.rev
    const before = await blocksOf(
      (await getCar('com.atproto.sync.getRepo', { did: bob.did })).bytes,
    )

    const late = []
    for (let i = 0; i < 5; i++) late.push(await createPost(bob, `late ${i}`))
    const put = await xrpcPost<WriteBody>(
      'com.atproto.repo.putRecord',
      {
        repo: bob.did,
        collection: 'app.bsky.feed.post',
        rkey: early[2]!.rkey,
        record: post('edited'),
      },
      bob.accessJwt,
    )
    expect(put.status).toBe(200)
    await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: bob.did, collection: 'app.bsky.feed.post', rkey: early[5]!.rkey },
      bob.accessJwt,
    )
    const now = await blocksOf((await getCar('com.atproto.sync.getRepo', { did: bob.did })).bytes)
    const diff = await getCar('com.atproto.sync.getRepo', { did: bob.did, since })
    expect(diff.status).toBe(200)
    const got = await blocksOf(diff.bytes)
    expect(got.roots.map(String)).toEqual(now.roots.map(String))
    const expected = [...now.blocks.keys()].filter((cid) => !before.blocks.has(cid)).sort()
    expect([...got.blocks.keys()].sort()).toEqual(expected)
    // Among them: the head commit, the new records and the edit, not the deleted one.
    for (const cid of [now.roots[0]!.toString(), ...late.map((p) => p.cid), put.body.cid]) {
      expect(got.blocks.has(cid)).toBe(true)
    }
    expect(got.blocks.has(early[5]!.cid)).toBe(false)

    // Since the head: the commit alone. Since a rev the repo never had: the whole repo.
    const head = await blocksOf(
      (await getCar('com.atproto.sync.getRepo', { did: bob.did, since: put.body.commit.rev }))
        .bytes,
    )
    const deleteRev = await xrpcGet<{ rev: string }>('com.atproto.sync.getLatestCommit', {
      did: bob.did,
    })
    const atHead = await blocksOf(
      (await getCar('com.atproto.sync.getRepo', { did: bob.did, since: deleteRev.body.rev })).bytes,
    )
    expect([...atHead.blocks.keys()]).toEqual([now.roots[0]!.toString()])
    expect(head.blocks.size).toBeGreaterThan(1)
    const unknown = await blocksOf(
      (await getCar('com.atproto.sync.getRepo', { did: bob.did, since: '2222222222222' })).bytes,
    )
    expect([...unknown.blocks.keys()].sort()).toEqual([...now.blocks.keys()].sort())
  })

  it('streams a 1,000-record repo that verifies', async () => {
    const carol = await createTestAccount('big')
    for (let batch = 0; batch < 5; batch++) {
      const writes = Array.from({ length: 200 }, (_, i) => ({
        $type: 'com.atproto.repo.applyWrites#create',
        collection: 'app.bsky.feed.post',
        value: post(`bulk ${batch}-${i}`),
      }))
      const res = await xrpcPost(
        'com.atproto.repo.applyWrites',
        { repo: carol.did, writes },
        carol.accessJwt,
      )
      expect(res.status).toBe(200)
    }
    const res = await getCar('com.atproto.sync.getRepo', { did: carol.did })
    const repo = await verifyRepoCar(res.bytes, { did: carol.did })
    expect(repo.records).toHaveLength(1000)
  })
})

describe('export internals', () => {
  it('names CIDs as the block table does and finds node links in any encoding', async () => {
    const cids = [
      CID.parse('bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'),
      CID.parse('bafkreicuq4ab2p7pw4vrd2ur4gtrejzdk73ulm63ggpwou2pjyxivse2aa'),
    ]
    for (const cid of cids) expect(cidString(cid.bytes)).toBe(cid.toString())
    const [a, b] = cids as [CID, CID]
    // l and t left out (a foreign encoder), keys in another order than ours.
    const node = encodeCbor({
      e: [
        { p: 0, k: new TextEncoder().encode('app.bsky.feed.post/a'), v: b },
        { v: a, t: a, k: new TextEncoder().encode('b'), p: 19 },
      ],
    })
    const children: Uint8Array[] = []
    const records = new Map<string, Uint8Array>()
    nodeLinks(node, children, records)
    expect(children.map((c) => CID.decode(c).toString())).toEqual([a.toString()])
    expect([...records.keys()].sort()).toEqual([a.toString(), b.toString()].sort())
    expect(() => nodeLinks(encodeCbor({ e: [{ v: 'not a link' }] }), [], new Map())).toThrow(
      /invalid MST node/,
    )
  })
})

describe('getRecord proofs and getBlocks', () => {
  it('proves a record present, and a deleted one absent', async () => {
    const dan = await createTestAccount('proof')
    const posts = []
    for (let i = 0; i < 30; i++) posts.push(await createPost(dan, `p${i}`))
    await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: dan.did, collection: 'app.bsky.feed.post', rkey: posts[7]!.rkey },
      dan.accessJwt,
    )
    const key = await signingKeyOf(dan.did)
    const check = async (rkey: string): Promise<CID | null> => {
      const res = await getCar('com.atproto.sync.getRecord', {
        did: dan.did,
        collection: 'app.bsky.feed.post',
        rkey,
      })
      expect(res.status).toBe(200)
      const { roots, blocks } = await readCar(res.bytes)
      const store = new MemoryBlockStore()
      for (const [cid, bytes] of blocks) store.put(CID.parse(cid), bytes)
      const commit = parseCommit((await store.get(roots[0]!))!)
      expect(commit.did).toBe(dan.did)
      expect(await verifyCommitSignature(commit, key)).toBe(true)
      const found = await Mst.load(store, commit.data).get(`app.bsky.feed.post/${rkey}`)
      if (found) expect(await store.has(found)).toBe(true)
      return found
    }
    expect((await check(posts[12]!.rkey))?.toString()).toBe(posts[12]!.cid)
    expect(await check(posts[7]!.rkey)).toBeNull()
  })

  it('serves blocks of the repo, but not records it no longer holds', async () => {
    const erin = await createTestAccount('blocks')
    const a = await createPost(erin, 'kept')
    const b = await createPost(erin, 'deleted')
    await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: erin.did, collection: 'app.bsky.feed.post', rkey: b.rkey },
      erin.accessJwt,
    )
    const latest = await xrpcGet<{ cid: string }>('com.atproto.sync.getLatestCommit', {
      did: erin.did,
    })
    const res = await getCar('com.atproto.sync.getBlocks', {
      did: erin.did,
      cids: [a.cid, latest.body.cid],
    })
    expect(res.status).toBe(200)
    const { roots, blocks } = await blocksOf(res.bytes)
    expect(roots).toEqual([])
    expect([...blocks.keys()].sort()).toEqual([a.cid, latest.body.cid].sort())

    for (const cids of [
      [b.cid],
      [a.cid, 'bafyreihijya4msbqz564m7z27uqdliygttem4cjcwvyd6oc6xlnzwpbk7y'],
    ]) {
      const missing = await xrpcGet('com.atproto.sync.getBlocks', { did: erin.did, cids })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toBe('BlockNotFound')
    }
  })
})

describe('status and listing', () => {
  it('reports status and heads; lists repos in pages', async () => {
    const accounts = [await createTestAccount('lista'), await createTestAccount('listb')]
    await createPost(accounts[0]!, 'x')
    const status = await xrpcGet('com.atproto.sync.getRepoStatus', { did: accounts[0]!.did })
    const latest = await xrpcGet<{ rev: string; cid: string }>('com.atproto.sync.getLatestCommit', {
      did: accounts[0]!.did,
    })
    expect(status.body).toEqual({ did: accounts[0]!.did, active: true, rev: latest.body.rev })

    const seen = new Map<string, Record<string, unknown>>()
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await xrpcGet<{ repos: Record<string, unknown>[]; cursor?: string }>(
        'com.atproto.sync.listRepos',
        { limit: 1, ...(cursor ? { cursor } : {}) },
      )
      expect(page.status).toBe(200)
      expect(page.body.repos.length).toBeLessThanOrEqual(1)
      for (const repo of page.body.repos) seen.set(repo.did as string, repo)
      cursor = page.body.cursor
      pages++
    } while (cursor && pages < 1000)
    expect(cursor).toBeUndefined()
    expect(seen.get(accounts[0]!.did)).toEqual({
      did: accounts[0]!.did,
      head: latest.body.cid,
      rev: latest.body.rev,
      active: true,
    })
    expect(seen.has(accounts[1]!.did)).toBe(true)
    const all = await xrpcGet<{ repos: { did: string }[] }>('com.atproto.sync.listRepos', {})
    expect(all.body.repos.map((r) => r.did)).toEqual([...seen.keys()])
  })

  it('refuses repo data while deactivated or taken down, but reports the status', async () => {
    const frank = await createTestAccount('status')
    const p = await createPost(frank, 'before')
    const deactivated = await xrpcPost('com.atproto.server.deactivateAccount', {}, frank.accessJwt)
    expect(deactivated.status).toBe(200)
    const reads: [string, Record<string, string | string[]>][] = [
      ['com.atproto.sync.getRepo', { did: frank.did }],
      ['com.atproto.sync.getCheckout', { did: frank.did }],
      ['com.atproto.sync.getLatestCommit', { did: frank.did }],
      ['com.atproto.sync.getHead', { did: frank.did }],
      [
        'com.atproto.sync.getRecord',
        { did: frank.did, collection: 'app.bsky.feed.post', rkey: p.rkey },
      ],
      ['com.atproto.sync.getBlocks', { did: frank.did, cids: [p.cid] }],
    ]
    for (const [nsid, params] of reads) {
      const res = await xrpcGet(nsid, params)
      expect(res.status, nsid).toBe(400)
      expect(res.body.error, nsid).toBe('RepoDeactivated')
    }
    const status = await xrpcGet('com.atproto.sync.getRepoStatus', { did: frank.did })
    expect(status.body).toEqual({ did: frank.did, active: false, status: 'deactivated' })
    const listed = await xrpcGet<{ repos: Record<string, unknown>[] }>(
      'com.atproto.sync.listRepos',
      { limit: 1000 },
    )
    expect(listed.body.repos.find((r) => r.did === frank.did)).toMatchObject({
      active: false,
      status: 'deactivated',
    })

    await env.DB.prepare("UPDATE account SET status = 'takendown' WHERE did = ?")
      .bind(frank.did)
      .run()
    const takendown = await xrpcGet('com.atproto.sync.getRepo', { did: frank.did })
    expect(takendown.body.error).toBe('RepoTakendown')
    const missing = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
    for (const nsid of ['com.atproto.sync.getRepo', 'com.atproto.sync.getRepoStatus']) {
      const res = await xrpcGet(nsid, { did: missing })
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('RepoNotFound')
    }
  })
})
