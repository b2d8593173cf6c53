/**
 * Repository writes and reads through XRPC: the Worker validates and encodes, the account's
 * Durable Object commits, D1 serves the reads.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { dispatcherWith } from './helpers/dispatch.ts'
import { createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const post = (text: string) => ({
  $type: 'app.bsky.feed.post',
  text,
  createdAt: new Date().toISOString(),
})

interface WriteBody {
  uri: string
  cid: string
  commit: { cid: string; rev: string }
  validationStatus?: string
}

async function create(account: TestAccount, record: unknown, extra: Record<string, unknown> = {}) {
  return xrpcPost<WriteBody>(
    'com.atproto.repo.createRecord',
    { repo: account.did, collection: 'app.bsky.feed.post', record, ...extra },
    account.accessJwt,
  )
}

describe('createRecord / getRecord', () => {
  it('writes a post and reads it back at once', async () => {
    const alice = await createTestAccount('alice')
    const res = await create(alice, post('hello world'))
    expect(res.status).toBe(200)
    expect(res.body.uri).toMatch(new RegExp(`^at://${alice.did}/app.bsky.feed.post/[a-z2-7]{13}$`))
    expect(res.body.cid).toMatch(/^bafyrei/)
    expect(res.body.validationStatus).toBe('valid')
    expect(res.headers.get('atproto-repo-rev')).toBe(res.body.commit.rev)
    const rkey = res.body.uri.split('/').pop()!
    const got = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.handle,
      collection: 'app.bsky.feed.post',
      rkey,
    })
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({
      uri: res.body.uri,
      cid: res.body.cid,
      value: { text: 'hello world' },
    })
    const byCid = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey,
      cid: res.body.cid,
    })
    expect(byCid.status).toBe(200)
  })

  it('keeps revs increasing and accepts unknown collections as unknown', async () => {
    const alice = await createTestAccount('revs')
    const first = await create(alice, post('one'))
    const second = await create(alice, post('two'))
    expect(second.body.commit.rev > first.body.commit.rev).toBe(true)
    const custom = await xrpcPost<WriteBody>(
      'com.atproto.repo.createRecord',
      { repo: alice.did, collection: 'com.example.thing', record: { anything: 1 } },
      alice.accessJwt,
    )
    expect(custom.status).toBe(200)
    expect(custom.body.validationStatus).toBe('unknown')
  })

  it.each([
    ['a malformed collection', { collection: 'not a nsid' }, 'InvalidRequest'],
    ['an invalid rkey', { rkey: 'bad rkey!' }, 'InvalidRequest'],
    [
      'a $type mismatch',
      { record: { ...post('x'), $type: 'app.bsky.feed.like' } },
      'InvalidRequest',
    ],
    [
      'a post without createdAt',
      { record: { $type: 'app.bsky.feed.post', text: 'x' } },
      'InvalidRequest',
    ],
    ['a post over 300 graphemes', { record: post('x'.repeat(301)) }, 'InvalidRequest'],
    [
      'an unknown lexicon with validate: true',
      { collection: 'com.example.x', record: { a: 1 }, validate: true },
      'InvalidRequest',
    ],
    ['a bad swapCommit CID', { swapCommit: 'not-a-cid' }, 'InvalidRequest'],
    [
      'an oversized record',
      { collection: 'com.example.big', record: { blob: 'x'.repeat(1_000_001) } },
      'InvalidRequest',
    ],
  ])('rejects %s and changes nothing', async (_label, override, error) => {
    const alice = await createTestAccount('bad')
    const before = await xrpcGet('com.atproto.repo.describeRepo', { repo: alice.did })
    const res = await xrpcPost(
      'com.atproto.repo.createRecord',
      { repo: alice.did, collection: 'app.bsky.feed.post', record: post('x'), ...override },
      alice.accessJwt,
    )
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error, message: expect.any(String) })
    const after = await xrpcGet('com.atproto.repo.describeRepo', { repo: alice.did })
    expect(after.body).toEqual(before.body)
  })

  it('names the invalid field', async () => {
    const alice = await createTestAccount('field')
    const res = await create(alice, { $type: 'app.bsky.feed.post', text: 'x' })
    expect(res.body).toMatchObject({ message: expect.stringContaining('createdAt') })
  })

  it('refuses writes to another account, without auth, and to a missing repo', async () => {
    const alice = await createTestAccount('owner')
    const bob = await createTestAccount('intruder')
    const other = await xrpcPost(
      'com.atproto.repo.createRecord',
      { repo: alice.did, collection: 'app.bsky.feed.post', record: post('x') },
      bob.accessJwt,
    )
    expect(other.status).toBe(403)
    const anonymous = await xrpcPost('com.atproto.repo.createRecord', {
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: post('x'),
    })
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toMatchObject({ error: 'AuthMissing' })
    const missing = await xrpcGet('com.atproto.repo.getRecord', {
      repo: 'did:plc:doesnotexist0000000000000',
      collection: 'app.bsky.feed.post',
      rkey: '3jzfcijpj2z2a',
    })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ error: 'RepoNotFound' })
  })
})

describe('getRecord / listRecords: the account and the data in one query', () => {
  it('answers by handle, with an empty page, and with the status errors', async () => {
    const carol = await createTestAccount('carol')
    const created = await create(carol, post('by handle'))
    const rkey = created.body.uri.split('/').pop()!
    const byHandle = await xrpcGet<{ uri: string }>('com.atproto.repo.getRecord', {
      repo: carol.handle.toUpperCase(),
      collection: 'app.bsky.feed.post',
      rkey,
    })
    expect(byHandle.body.uri).toBe(created.body.uri)
    const page = await xrpcGet<{ records: { uri: string }[]; cursor?: string }>(
      'com.atproto.repo.listRecords',
      { repo: carol.handle.toUpperCase(), collection: 'app.bsky.feed.post' },
    )
    expect(page.body).toEqual({ records: [expect.objectContaining({ uri: created.body.uri })] })
    const empty = await xrpcGet('com.atproto.repo.listRecords', {
      repo: carol.did,
      collection: 'app.bsky.feed.like',
    })
    expect(empty.body).toEqual({ records: [] })
    const pastTheEnd = await xrpcGet('com.atproto.repo.listRecords', {
      repo: carol.did,
      collection: 'app.bsky.feed.post',
      cursor: rkey,
    })
    expect(pastTheEnd.body).toEqual({ records: [] })
    const missingRecord = await xrpcGet('com.atproto.repo.getRecord', {
      repo: carol.did,
      collection: 'app.bsky.feed.post',
      rkey: '3jzfcijpj2z2a',
    })
    expect(missingRecord.status).toBe(400)
    expect(missingRecord.body).toMatchObject({ error: 'RecordNotFound' })
    for (const repo of ['did:plc:doesnotexist0000000000000', 'nobody.test']) {
      const missing = await xrpcGet('com.atproto.repo.listRecords', {
        repo,
        collection: 'app.bsky.feed.post',
      })
      expect(missing.status).toBe(400)
      expect(missing.body).toMatchObject({ error: 'RepoNotFound' })
    }

    const off = await xrpcPost('com.atproto.server.deactivateAccount', {}, carol.accessJwt)
    expect(off.status).toBe(200)
    const reads: [string, Record<string, string>][] = [
      ['com.atproto.repo.getRecord', { repo: carol.did, collection: 'app.bsky.feed.post', rkey }],
      ['com.atproto.repo.listRecords', { repo: carol.handle, collection: 'app.bsky.feed.post' }],
    ]
    for (const [nsid, params] of reads) {
      const res = await xrpcGet(nsid, params)
      expect(res.status, nsid).toBe(400)
      expect(res.body, nsid).toMatchObject({ error: 'RepoDeactivated' })
    }
  })
})

describe('putRecord / deleteRecord', () => {
  it('creates and updates a profile, with swapRecord checked', async () => {
    const alice = await createTestAccount('profile')
    const put = (record: unknown, swapRecord?: string | null) =>
      xrpcPost<WriteBody>(
        'com.atproto.repo.putRecord',
        {
          repo: alice.did,
          collection: 'app.bsky.actor.profile',
          rkey: 'self',
          record,
          ...(swapRecord === undefined ? {} : { swapRecord }),
        },
        alice.accessJwt,
      )
    const first = await put({ $type: 'app.bsky.actor.profile', displayName: 'Alice' }, null)
    expect(first.status).toBe(200)
    const second = await put(
      { $type: 'app.bsky.actor.profile', displayName: 'Alice B' },
      first.body.cid,
    )
    expect(second.status).toBe(200)
    const stale = await put(
      { $type: 'app.bsky.actor.profile', displayName: 'Stale' },
      first.body.cid,
    )
    expect(stale.status).toBe(400)
    expect(stale.body).toMatchObject({ error: 'InvalidSwap' })
    const got = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
    })
    expect(got.body).toMatchObject({ cid: second.body.cid, value: { displayName: 'Alice B' } })
    const wrongKey = await xrpcPost(
      'com.atproto.repo.putRecord',
      {
        repo: alice.did,
        collection: 'app.bsky.actor.profile',
        rkey: 'other',
        record: { $type: 'app.bsky.actor.profile' },
      },
      alice.accessJwt,
    )
    expect(wrongKey.status).toBe(400)
  })

  it('deletes a record; deleting a missing one succeeds without a commit', async () => {
    const alice = await createTestAccount('delete')
    const created = await create(alice, post('bye'))
    const rkey = created.body.uri.split('/').pop()!
    const del = await xrpcPost<{ commit?: { rev: string } }>(
      'com.atproto.repo.deleteRecord',
      { repo: alice.did, collection: 'app.bsky.feed.post', rkey },
      alice.accessJwt,
    )
    expect(del.status).toBe(200)
    expect(del.body.commit?.rev && del.body.commit.rev > created.body.commit.rev).toBe(true)
    const got = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey,
    })
    expect(got.status).toBe(400)
    expect(got.body).toMatchObject({ error: 'RecordNotFound' })
    const again = await xrpcPost(
      'com.atproto.repo.deleteRecord',
      { repo: alice.did, collection: 'app.bsky.feed.post', rkey },
      alice.accessJwt,
    )
    expect(again.status).toBe(200)
    expect(again.body).toEqual({})
  })
})

describe('applyWrites and listRecords', () => {
  it('commits 200 mixed operations at once, and lists every record once both ways', async () => {
    const alice = await createTestAccount('batch')
    const creates = Array.from({ length: 150 }, (_, i) => ({
      $type: 'com.atproto.repo.applyWrites#create',
      collection: 'app.bsky.feed.post',
      value: post(`post ${i}`),
    }))
    const first = await xrpcPost<{ results: Array<{ uri: string; cid: string }> }>(
      'com.atproto.repo.applyWrites',
      { repo: alice.did, writes: creates },
      alice.accessJwt,
    )
    expect(first.status).toBe(200)
    expect(first.body.results).toHaveLength(150)
    const rkeys = first.body.results.map((r) => r.uri.split('/').pop()!)
    const mixed = [
      ...Array.from({ length: 100 }, (_, i) => ({
        $type: 'com.atproto.repo.applyWrites#create',
        collection: 'app.bsky.feed.post',
        value: post(`second batch ${i}`),
      })),
      ...rkeys.slice(0, 50).map((rkey) => ({
        $type: 'com.atproto.repo.applyWrites#update',
        collection: 'app.bsky.feed.post',
        rkey,
        value: post(`updated ${rkey}`),
      })),
      ...rkeys.slice(50, 100).map((rkey) => ({
        $type: 'com.atproto.repo.applyWrites#delete',
        collection: 'app.bsky.feed.post',
        rkey,
      })),
    ]
    expect(mixed).toHaveLength(200)
    const second = await xrpcPost<{ results: Array<{ $type: string }> }>(
      'com.atproto.repo.applyWrites',
      { repo: alice.did, writes: mixed },
      alice.accessJwt,
    )
    expect(second.status).toBe(200)
    expect(second.body.results.filter((r) => r.$type.endsWith('#deleteResult'))).toHaveLength(50)

    const tooMany = await xrpcPost(
      'com.atproto.repo.applyWrites',
      { repo: alice.did, writes: [...mixed, mixed[0]] },
      alice.accessJwt,
    )
    expect(tooMany.status).toBe(400)

    for (const reverse of [false, true]) {
      const seen: string[] = []
      let cursor: string | undefined
      for (let page = 0; page < 10; page++) {
        const res = await xrpcGet<{ records: Array<{ uri: string }>; cursor?: string }>(
          'com.atproto.repo.listRecords',
          {
            repo: alice.did,
            collection: 'app.bsky.feed.post',
            limit: 100,
            reverse,
            ...(cursor ? { cursor } : {}),
          },
        )
        expect(res.status).toBe(200)
        seen.push(...res.body.records.map((r) => r.uri.split('/').pop()!))
        cursor = res.body.cursor
        if (!cursor) break
      }
      expect(seen).toHaveLength(200)
      expect(new Set(seen).size).toBe(200)
      const sorted = [...seen].sort()
      expect(seen).toEqual(reverse ? sorted : sorted.reverse())
    }
  })

  it('describes the repo', async () => {
    const alice = await createTestAccount('describe')
    await create(alice, post('x'))
    const res = await xrpcGet('com.atproto.repo.describeRepo', { repo: alice.handle })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      handle: alice.handle,
      did: alice.did,
      collections: ['app.bsky.feed.post'],
      handleIsCorrect: true,
      didDoc: { id: alice.did },
    })
  })
})

describe('getRecord without response validation (the production setting)', () => {
  it('serves the stored JSON as is, the same record as the validated path', async () => {
    const alice = await createTestAccount('rawread')
    const created = await create(alice, {
      ...post('raw ✨'),
      langs: ['en'],
      facets: [],
    })
    const rkey = created.body.uri.split('/').pop()!
    const query = `?repo=${alice.handle}&collection=app.bsky.feed.post&rkey=${rkey}`
    const raw = await dispatcherWith({ PDS_VALIDATE_RESPONSES: 'false' })(
      'com.atproto.repo.getRecord',
      undefined,
      query,
    )
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-type')).toContain('application/json')
    const validated = await xrpcGet('com.atproto.repo.getRecord', {
      repo: alice.handle,
      collection: 'app.bsky.feed.post',
      rkey,
    })
    expect(await raw.json()).toEqual(validated.body)
    const missing = await dispatcherWith({ PDS_VALIDATE_RESPONSES: 'false' })(
      'com.atproto.repo.getRecord',
      undefined,
      `?repo=${alice.did}&collection=app.bsky.feed.post&rkey=3jzfcijpj2z2a`,
    )
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: 'RecordNotFound' })
  })

  it('lists records with stored JSON as is, page for page the same as the validated path', async () => {
    const alice = await createTestAccount('rawlist')
    for (let i = 0; i < 5; i++) await create(alice, post(`list ${i}`))
    const raw = dispatcherWith({ PDS_VALIDATE_RESPONSES: 'false' })
    let cursor: string | undefined
    for (let page = 0; page < 3; page++) {
      const params = {
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      }
      const res = await raw(
        'com.atproto.repo.listRecords',
        undefined,
        `?${new URLSearchParams(params)}`,
      )
      expect(res.status).toBe(200)
      const body = (await res.json()) as { records: unknown[]; cursor?: string }
      const validated = await xrpcGet('com.atproto.repo.listRecords', params)
      expect(body).toEqual(validated.body)
      expect(body.records).toHaveLength(page < 2 ? 2 : 1)
      cursor = body.cursor
    }
    expect(cursor).toBeUndefined()
  })

  it('lists the same as the validated path in both orders, by handle, past the end and with values D1 lacks', async () => {
    const alice = await createTestAccount('rawlist2')
    const texts = ['plain', 'quote " and \\ backslash', 'line\nbreak ✨ 𝔘', '<script>', '']
    const rkeys: string[] = []
    for (const text of texts)
      rkeys.push((await create(alice, post(text))).body.uri.split('/').pop()!)
    const raw = dispatcherWith({ PDS_VALIDATE_RESPONSES: 'false' })
    const both = async (params: Record<string, string>) => {
      const res = await raw(
        'com.atproto.repo.listRecords',
        undefined,
        `?${new URLSearchParams(params)}`,
      )
      const validated = await xrpcGet('com.atproto.repo.listRecords', params)
      expect(res.status).toBe(validated.status)
      const body = await res.json()
      expect(body).toEqual(validated.body)
      return body as { records: { uri: string; value: { text: string } }[]; cursor?: string }
    }
    for (const reverse of ['false', 'true']) {
      for (const repo of [alice.did, alice.handle]) {
        const seen: string[] = []
        let cursor: string | undefined
        for (let page = 0; page < 4; page++) {
          const body = await both({
            repo,
            collection: 'app.bsky.feed.post',
            limit: '2',
            reverse,
            ...(cursor ? { cursor } : {}),
          })
          seen.push(...body.records.map((r) => r.uri.split('/').pop()!))
          cursor = body.cursor
          if (!cursor) break
        }
        expect(seen).toEqual(reverse === 'true' ? [...rkeys].sort() : [...rkeys].sort().reverse())
      }
    }
    // A cursor past the end, a collection with nothing, a repo that does not exist.
    expect(
      (await both({ repo: alice.did, collection: 'app.bsky.feed.post', cursor: '2222222222222' }))
        .records,
    ).toEqual([])
    expect((await both({ repo: alice.did, collection: 'app.bsky.feed.like' })).records).toEqual([])
    await both({ repo: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', collection: 'app.bsky.feed.post' })

    // A record taken down is left out, also from the test for another page.
    await env.DB.prepare("UPDATE record SET takedown_ref = 'r1' WHERE did = ? AND rkey = ?")
      .bind(alice.did, rkeys[0])
      .run()
    const shown = await both({ repo: alice.did, collection: 'app.bsky.feed.post', limit: '4' })
    expect(shown.records.map((r) => r.value.text)).toEqual([...texts].slice(1).reverse())
    expect(shown.cursor).toBeUndefined()
    await env.DB.prepare('UPDATE record SET takedown_ref = NULL WHERE did = ?')
      .bind(alice.did)
      .run()

    // A record whose value D1 does not hold is read from the repo.
    await env.DB.prepare("UPDATE record SET value = '' WHERE did = ? AND rkey = ?")
      .bind(alice.did, rkeys[1])
      .run()
    const body = await both({ repo: alice.did, collection: 'app.bsky.feed.post', limit: '10' })
    expect(body.records.map((r) => r.value.text)).toEqual([...texts].reverse())
  })
})
