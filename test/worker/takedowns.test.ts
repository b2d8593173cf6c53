/**
 * Takedowns (com.atproto.admin.updateSubjectStatus) and their effects, each reversed: an
 * account (reads, sessions, the migration token, firehose events), a record (getRecord,
 * listRecords) and a blob (getBlob, bytes kept); with the admin password and with the
 * moderation service's JWT.
 */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { eventsOf } from './account-helpers.ts'
import { adminGet, adminPost, modJwt } from './helpers/admin.ts'
import { BASE, createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

const UPDATE = 'com.atproto.admin.updateSubjectStatus'

async function post(account: TestAccount, text: string, embed?: unknown) {
  const res = await xrpcPost<{ uri: string; cid: string }>(
    'com.atproto.repo.createRecord',
    {
      repo: account.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString(), embed },
    },
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return res.body
}

function rkeyOf(uri: string): string {
  return uri.split('/').pop()!
}

const repoRef = (did: string) => ({ $type: 'com.atproto.admin.defs#repoRef', did })

describe('account takedown', () => {
  it('hides the repo, ends sessions, leaves the migration token; reversal restores it all', async () => {
    const account = await createTestAccount('takedown')
    const { uri } = await post(account, 'before the takedown')

    const down = await adminPost(UPDATE, {
      subject: repoRef(account.did),
      takedown: { applied: true, ref: 'case-1' },
    })
    expect(down).toEqual({
      status: 200,
      body: { subject: repoRef(account.did), takedown: { applied: true, ref: 'case-1' } },
    })
    const status = await adminGet('com.atproto.admin.getSubjectStatus', { did: account.did })
    expect(status.body).toMatchObject({ takedown: { applied: true, ref: 'case-1' } })

    // Every repo read answers RepoTakendown.
    for (const [nsid, params] of [
      [
        'com.atproto.repo.getRecord',
        { repo: account.did, collection: 'app.bsky.feed.post', rkey: rkeyOf(uri) },
      ],
      ['com.atproto.repo.listRecords', { repo: account.did, collection: 'app.bsky.feed.post' }],
      ['com.atproto.repo.describeRepo', { repo: account.did }],
      ['com.atproto.sync.getRepo', { did: account.did }],
      ['com.atproto.sync.getLatestCommit', { did: account.did }],
      [
        'com.atproto.sync.getBlob',
        { did: account.did, cid: 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' },
      ],
    ] as const) {
      const res = await xrpcGet(nsid, params)
      expect(res.status, nsid).toBe(400)
      expect(res.body.error, nsid).toBe('RepoTakendown')
    }
    const status2 = await xrpcGet('com.atproto.sync.getRepoStatus', { did: account.did })
    expect(status2.body).toMatchObject({ active: false, status: 'takendown' })

    // Sessions: the access token, the refresh token and a new login are refused.
    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.status).toBe(401)
    expect(session.body.error).toBe('AccountTakedown')
    const refresh = await xrpcPost(
      'com.atproto.server.refreshSession',
      undefined,
      account.refreshJwt,
    )
    expect(refresh.status).not.toBe(200)
    const login = await xrpcPost('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
    })
    expect(login).toMatchObject({ status: 401, body: { error: 'AccountTakedown' } })
    const write = await xrpcPost(
      'com.atproto.repo.createRecord',
      {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: new Date().toISOString() },
      },
      account.accessJwt,
    )
    expect(write.status).toBe(401)

    // The owner may still sign in to migrate away: the createAccount token and nothing else.
    const migrating = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
      allowTakendown: true,
    })
    expect(migrating.status, JSON.stringify(migrating.body)).toBe(200)
    const token = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:newpds.example', lxm: 'com.atproto.server.createAccount' },
      migrating.body.accessJwt,
    )
    expect(token.status, JSON.stringify(token.body)).toBe(200)
    const other = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:newpds.example', lxm: 'com.atproto.repo.createRecord' },
      migrating.body.accessJwt,
    )
    expect(other.status).toBe(401)
    const ownView = await xrpcGet('com.atproto.server.getSession', {}, migrating.body.accessJwt)
    expect(ownView.body).toMatchObject({ did: account.did, active: false, status: 'takendown' })

    // Reversal, by the moderation service this time.
    const up = await adminPost(
      UPDATE,
      { subject: repoRef(account.did), takedown: { applied: false } },
      await modJwt(UPDATE),
    )
    expect(up.status, JSON.stringify(up.body)).toBe(200)
    const read = await xrpcGet('com.atproto.repo.getRecord', {
      repo: account.did,
      collection: 'app.bsky.feed.post',
      rkey: rkeyOf(uri),
    })
    expect(read.status).toBe(200)
    const again = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
      identifier: account.handle,
      password: account.password,
    })
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    await post({ ...account, accessJwt: again.body.accessJwt }, 'after the reversal')
    const restored = await adminGet('com.atproto.admin.getSubjectStatus', { did: account.did })
    expect(restored.body).toMatchObject({ takedown: { applied: false } })

    // The firehose told relays each time.
    const accountEvents = (await eventsOf(account.did))
      .filter((e) => e.type === '#account' || e.type === '#sync')
      .map((e) => [e.type, e.body.active ?? null, e.body.status ?? null])
    expect(accountEvents.slice(-3)).toEqual([
      ['#account', false, 'takendown'],
      ['#account', true, null],
      ['#sync', null, null],
    ])
  })

  it('refuses a takedown and an activation in one call', async () => {
    const account = await createTestAccount('conflict')
    const res = await adminPost(UPDATE, {
      subject: repoRef(account.did),
      takedown: { applied: true },
      deactivated: { applied: false },
    })
    expect(res.status).toBe(400)
    const status = await adminGet('com.atproto.admin.getSubjectStatus', { did: account.did })
    expect(status.body).toMatchObject({ takedown: { applied: false } })
  })

  it('deactivates and activates an account', async () => {
    const account = await createTestAccount('deact')
    expect(
      (await adminPost(UPDATE, { subject: repoRef(account.did), deactivated: { applied: true } }))
        .status,
    ).toBe(200)
    expect((await xrpcGet('com.atproto.repo.describeRepo', { repo: account.did })).body.error).toBe(
      'RepoDeactivated',
    )
    const status = await adminGet('com.atproto.admin.getSubjectStatus', { did: account.did })
    expect(status.body).toMatchObject({ deactivated: { applied: true } })
    expect(
      (await adminPost(UPDATE, { subject: repoRef(account.did), deactivated: { applied: false } }))
        .status,
    ).toBe(200)
    expect((await xrpcGet('com.atproto.repo.describeRepo', { repo: account.did })).status).toBe(200)
  })
})

describe('record takedown', () => {
  it('hides the record from getRecord and listRecords until reversed', async () => {
    const account = await createTestAccount('rectd')
    const kept = await post(account, 'kept')
    const hidden = await post(account, 'hidden')
    const subject = { $type: 'com.atproto.repo.strongRef', uri: hidden.uri, cid: hidden.cid }
    const down = await adminPost(
      UPDATE,
      { subject, takedown: { applied: true, ref: 'r1' } },
      await modJwt(UPDATE),
    )
    expect(down.status).toBe(200)

    const get = (uri: string) =>
      xrpcGet('com.atproto.repo.getRecord', {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        rkey: rkeyOf(uri),
      })
    expect((await get(hidden.uri)).body.error).toBe('RecordNotFound')
    expect((await get(kept.uri)).status).toBe(200)
    const list = await xrpcGet<{ records: { uri: string }[] }>('com.atproto.repo.listRecords', {
      repo: account.did,
      collection: 'app.bsky.feed.post',
    })
    expect(list.body.records.map((r) => r.uri)).toEqual([kept.uri])
    const status = await adminGet('com.atproto.admin.getSubjectStatus', { uri: hidden.uri })
    expect(status.body).toEqual({
      subject: { $type: 'com.atproto.repo.strongRef', uri: hidden.uri, cid: hidden.cid },
      takedown: { applied: true, ref: 'r1' },
    })

    expect((await adminPost(UPDATE, { subject, takedown: { applied: false } })).status).toBe(200)
    expect((await get(hidden.uri)).status).toBe(200)

    const missing = await adminPost(UPDATE, {
      subject: { ...subject, uri: `at://${account.did}/app.bsky.feed.post/3zzzzzzzzzzzz` },
      takedown: { applied: true },
    })
    expect(missing).toMatchObject({ status: 400, body: { error: 'RecordNotFound' } })
  })
})

describe('blob takedown', () => {
  it('withholds the blob and serves the same bytes after reversal', async () => {
    const account = await createTestAccount('blobtd')
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4])
    const uploaded = await SELF.fetch(`${BASE}/xrpc/com.atproto.repo.uploadBlob`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.accessJwt}`, 'content-type': 'image/png' },
      body: bytes,
    })
    const { blob } = (await uploaded.json()) as { blob: { ref: { $link: string } } }
    const cid = blob.ref.$link
    await post(account, 'with an image', {
      $type: 'app.bsky.embed.images',
      images: [{ alt: 'x', image: blob }],
    })
    const getBlob = () =>
      SELF.fetch(`${BASE}/xrpc/com.atproto.sync.getBlob?did=${account.did}&cid=${cid}`)
    expect((await getBlob()).status).toBe(200)

    const subject = { $type: 'com.atproto.admin.defs#repoBlobRef', did: account.did, cid }
    expect((await adminPost(UPDATE, { subject, takedown: { applied: true } })).status).toBe(200)
    const withheld = await getBlob()
    expect(withheld.status).toBe(400)
    expect(((await withheld.json()) as { error: string }).error).toBe('BlobNotFound')
    const status = await adminGet('com.atproto.admin.getSubjectStatus', {
      did: account.did,
      blob: cid,
    })
    expect(status.body).toMatchObject({ subject, takedown: { applied: true } })

    expect((await adminPost(UPDATE, { subject, takedown: { applied: false } })).status).toBe(200)
    const served = await getBlob()
    expect(served.status).toBe(200)
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
  })
})
