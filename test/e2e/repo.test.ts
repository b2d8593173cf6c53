/**
 * Repository writes and reads end to end, as a person using @atproto/api against the running
 * PDS: posts, likes, follows, profiles, deletes, applyWrites, and paging through 1,000 records.
 */
import { AtpAgent } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { describe, expect, inject, it } from 'vitest'
import { getSigningKey } from '../../src/identity/index.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const password = 'correct horse battery staple'

async function newAgent(prefix: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password })
  return agent
}

function rkeyOf(uri: string): string {
  return uri.split('/').pop()!
}

describe('repo with @atproto/api', () => {
  it('posts, likes, follows, edits a profile and deletes', async () => {
    const alice = await newAgent('alice')
    const bob = await newAgent('bob')
    const bobPost = await bob.post({ text: 'hello from bob' })
    const like = await alice.like(bobPost.uri, bobPost.cid)
    const follow = await alice.follow(bob.session!.did)
    await alice.upsertProfile(() => ({ displayName: 'Alice', description: 'first' }))
    await alice.upsertProfile((existing) => ({ ...existing, description: 'second' }))
    const myPost = await alice.post({ text: 'to be deleted' })

    const profile = await alice.com.atproto.repo.getRecord({
      repo: alice.session!.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
    })
    expect(profile.data.value).toMatchObject({ displayName: 'Alice', description: 'second' })
    const likeRecord = await alice.com.atproto.repo.getRecord({
      repo: alice.session!.handle,
      collection: 'app.bsky.feed.like',
      rkey: rkeyOf(like.uri),
    })
    expect(likeRecord.data.value).toMatchObject({ subject: { uri: bobPost.uri, cid: bobPost.cid } })
    const followRecord = await alice.com.atproto.repo.getRecord({
      repo: alice.session!.did,
      collection: 'app.bsky.graph.follow',
      rkey: rkeyOf(follow.uri),
    })
    expect(followRecord.data.value).toMatchObject({ subject: bob.session!.did })

    await alice.deletePost(myPost.uri)
    await expect(
      alice.com.atproto.repo.getRecord({
        repo: alice.session!.did,
        collection: 'app.bsky.feed.post',
        rkey: rkeyOf(myPost.uri),
      }),
    ).rejects.toMatchObject({ status: 400, error: 'RecordNotFound' })

    const described = await alice.com.atproto.repo.describeRepo({ repo: alice.session!.did })
    expect(described.data.collections).toEqual([
      'app.bsky.actor.profile',
      'app.bsky.feed.like',
      'app.bsky.graph.follow',
    ])
    expect(described.data.handleIsCorrect).toBe(true)
  })

  it('applies 200 mixed writes in one commit and pages through 1,000 records both ways', async () => {
    const agent = await newAgent('pager')
    const did = agent.session!.did
    const created: string[] = []
    for (let batch = 0; batch < 5; batch++) {
      const res = await agent.com.atproto.repo.applyWrites({
        repo: did,
        writes: Array.from({ length: 200 }, (_, i) => ({
          $type: 'com.atproto.repo.applyWrites#create' as const,
          collection: 'app.bsky.feed.post',
          value: {
            $type: 'app.bsky.feed.post',
            text: `post ${batch}/${i}`,
            createdAt: new Date().toISOString(),
          },
        })),
      })
      created.push(...(res.data.results ?? []).map((r) => rkeyOf((r as { uri: string }).uri)))
    }
    expect(new Set(created).size).toBe(1000)

    const mixed = await agent.com.atproto.repo.applyWrites({
      repo: did,
      writes: [
        ...created.slice(0, 100).map((rkey) => ({
          $type: 'com.atproto.repo.applyWrites#update' as const,
          collection: 'app.bsky.feed.post',
          rkey,
          value: {
            $type: 'app.bsky.feed.post',
            text: `edited ${rkey}`,
            createdAt: new Date().toISOString(),
          },
        })),
        ...created.slice(100, 150).map((rkey) => ({
          $type: 'com.atproto.repo.applyWrites#delete' as const,
          collection: 'app.bsky.feed.post',
          rkey,
        })),
        ...Array.from({ length: 50 }, (_, i) => ({
          $type: 'com.atproto.repo.applyWrites#create' as const,
          collection: 'app.bsky.feed.post',
          value: {
            $type: 'app.bsky.feed.post',
            text: `late ${i}`,
            createdAt: new Date().toISOString(),
          },
        })),
      ],
    })
    expect(mixed.data.results).toHaveLength(200)
    const expected = new Set([
      ...created.slice(0, 100),
      ...created.slice(150),
      ...(mixed.data.results ?? []).slice(150).map((r) => rkeyOf((r as { uri: string }).uri)),
    ])
    expect(expected.size).toBe(1000)

    for (const reverse of [false, true]) {
      const seen: string[] = []
      let cursor: string | undefined
      do {
        const page = await agent.com.atproto.repo.listRecords({
          repo: did,
          collection: 'app.bsky.feed.post',
          limit: 100,
          reverse,
          cursor,
        })
        expect(page.data.records.length).toBeLessThanOrEqual(100)
        seen.push(...page.data.records.map((r) => rkeyOf(r.uri)))
        cursor = page.data.cursor
      } while (cursor)
      expect(seen).toHaveLength(1000)
      expect(new Set(seen)).toEqual(expected)
      const sorted = [...seen].sort()
      expect(seen).toEqual(reverse ? sorted : sorted.reverse())
    }
    const edited = await agent.com.atproto.repo.getRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      rkey: created[0]!,
    })
    expect(edited.data.value).toMatchObject({ text: `edited ${created[0]}` })
  })

  it('exports a repo that @atproto/repo verifies, with exactly the records D1 serves', async () => {
    const agent = await newAgent('export')
    const did = agent.session!.did
    await agent.upsertProfile(() => ({ displayName: 'Exporter' }))
    const posts = []
    for (let i = 0; i < 20; i++) posts.push(await agent.post({ text: `export ${i}` }))
    await agent.deletePost(posts[3]!.uri)
    await agent.like(posts[0]!.uri, posts[0]!.cid)

    const doc = await (await fetch(`${plcUrl}/${did}`)).json()
    // The local PLC writes the key in the legacy form: read it with our DID-document parser.
    const signingKey = getSigningKey(doc)!
    const car = await agent.com.atproto.sync.getRepo({ did })
    const verified = await verifyRepoCar(car.data, did, signingKey)
    const inRepo = new Set(
      verified.creates.map((c) => `${c.collection}/${c.rkey}@${c.cid.toString()}`),
    )

    const indexed = new Set<string>()
    const described = await agent.com.atproto.repo.describeRepo({ repo: did })
    for (const collection of described.data.collections) {
      let cursor: string | undefined
      do {
        const page = await agent.com.atproto.repo.listRecords({
          repo: did,
          collection,
          limit: 100,
          cursor,
        })
        for (const r of page.data.records) indexed.add(`${collection}/${rkeyOf(r.uri)}@${r.cid}`)
        cursor = page.data.cursor
      } while (cursor)
    }
    expect(inRepo.size).toBe(21)
    expect(indexed).toEqual(inRepo)
  })
})
