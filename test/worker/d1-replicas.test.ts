/**
 * Reads from D1's nearest replica through the Sessions API (src/db/session.ts): the bookmark a
 * write returns, sent back, lets its writer read the write; auth verifiers read the primary.
 * miniflare keeps one copy of the database but runs the real Sessions API and bookmarks, so
 * these tests check the bookmark logic and which session each query goes to.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getConfig } from '../../src/config.ts'
import { BOOKMARK_HEADER, latestBookmark, openRequestSessions } from '../../src/db/session.ts'
import { dispatchXrpc } from '../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../src/xrpc/errors.ts'
import { dispatchDeps } from '../../worker/dispatch-deps.ts'
import { BASE, createTestAccount, type TestAccount, xrpcPost } from './helpers/xrpc.ts'

/** getRecord's one query (src/db/record-reads.ts), and drizzle's reads of two tables. */
const RECORD_READ = /JOIN record r/
const ACCOUNT_READ = /from "account"/i
const APP_PASSWORD_READ = /from "app_password"/i
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/
const POSTS = 'app.bsky.feed.post'

async function createPost(account: TestAccount, text: string) {
  return xrpcPost<{ uri: string; cid: string }>(
    'com.atproto.repo.createRecord',
    {
      repo: account.did,
      collection: POSTS,
      record: { $type: POSTS, text, createdAt: new Date().toISOString() },
    },
    account.accessJwt,
  )
}

function getRecord(did: string, rkey: string, headers: Record<string, string> = {}) {
  const url = new URL(`${BASE}/xrpc/com.atproto.repo.getRecord`)
  url.searchParams.set('repo', did)
  url.searchParams.set('collection', POSTS)
  url.searchParams.set('rkey', rkey)
  return SELF.fetch(url, { headers })
}

/** A bookmark of the primary as it is now. */
async function primaryBookmark(): Promise<string> {
  const session = env.DB.withSession('first-primary')
  await session.prepare('SELECT 1').all()
  return session.getBookmark()!
}

describe('D1 bookmarks over HTTP', () => {
  it('a write returns the bookmark of its index write, and a read with it sees the write', async () => {
    const alice = await createTestAccount('bookmark')
    const before = await primaryBookmark()
    const written = await createPost(alice, 'read me back')
    expect(written.status).toBe(200)
    const bookmark = written.headers.get(BOOKMARK_HEADER)
    expect(bookmark).toMatch(BOOKMARK)
    expect(bookmark! > before).toBe(true)
    // The index row is there for a session that starts at the bookmark.
    const rkey = written.body.uri.split('/').pop()!
    const session = env.DB.withSession(bookmark!)
    const row = await session
      .prepare('SELECT cid FROM record WHERE did = ? AND collection = ? AND rkey = ?')
      .bind(alice.did, POSTS, rkey)
      .first<{ cid: string }>()
    expect(row?.cid).toBe(written.body.cid)
    // An anonymous reader (a replica session) that sends it back sees the record.
    const read = await getRecord(alice.did, rkey, { [BOOKMARK_HEADER]: bookmark! })
    expect(read.status).toBe(200)
    expect(((await read.json()) as { cid: string }).cid).toBe(written.body.cid)
    // The bookmark comes back no older than the one sent, so the client can keep carrying it.
    const echoed = read.headers.get(BOOKMARK_HEADER)
    expect(echoed).toMatch(BOOKMARK)
    expect(echoed! >= bookmark!).toBe(true)
  })

  it("each write's bookmark is later than the last: the object keeps its latest batch's", async () => {
    const bob = await createTestAccount('bookmark')
    const before = await primaryBookmark()
    const first = (await createPost(bob, 'one')).headers.get(BOOKMARK_HEADER)!
    const second = (await createPost(bob, 'two')).headers.get(BOOKMARK_HEADER)!
    expect(first > before).toBe(true)
    expect(second > first).toBe(true)
  })

  it('a bookmark older than the latest still comes back as the latest the request saw', async () => {
    const old = await primaryBookmark()
    await primaryBookmark()
    const res = await SELF.fetch(`${BASE}/xrpc/com.atproto.server.describeServer`, {
      headers: { [BOOKMARK_HEADER]: old },
    })
    expect(res.status).toBe(200)
    // describeServer reads nothing from D1: the client's own bookmark is returned unchanged.
    expect(res.headers.get(BOOKMARK_HEADER)).toBe(old)
  })

  it('refuses a malformed bookmark with a clear 400, never a 500', async () => {
    const alice = await createTestAccount('bookmark')
    const malformed = [
      'garbage',
      'zzzz-zzzz',
      '00000000',
      '0000-0000 OR 1=1',
      `${'0'.repeat(8)}-${'0'.repeat(300)}`,
      '-'.repeat(20),
    ]
    for (const value of malformed) {
      for (const res of [
        await getRecord(alice.did, 'nothing', { [BOOKMARK_HEADER]: value }),
        await SELF.fetch(`${BASE}/xrpc/com.atproto.repo.createRecord`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${alice.accessJwt}`,
            'content-type': 'application/json',
            [BOOKMARK_HEADER]: value,
          },
          body: JSON.stringify({
            repo: alice.did,
            collection: POSTS,
            record: { $type: POSTS, text: 'x', createdAt: new Date().toISOString() },
          }),
        }),
      ]) {
        expect(res.status, value).toBe(400)
        const body = (await res.json()) as { error: string; message: string }
        expect(body.error).toBe('InvalidRequest')
        expect(body.message).toContain(BOOKMARK_HEADER)
      }
    }
    // An empty header is no bookmark at all.
    const empty = await getRecord(alice.did, 'nothing', { [BOOKMARK_HEADER]: '' })
    expect(empty.status).toBe(400)
    expect(((await empty.json()) as { error: string }).error).toBe('RecordNotFound')
  })

  it('lets browser clients read and send the header (CORS)', async () => {
    const preflight = await SELF.fetch(`${BASE}/xrpc/com.atproto.repo.getRecord`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': BOOKMARK_HEADER,
      },
    })
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      BOOKMARK_HEADER,
    )
    const res = await SELF.fetch(`${BASE}/xrpc/_health`, {
      headers: { Origin: 'https://app.example' },
    })
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain(
      BOOKMARK_HEADER,
    )
  })
})

/** A D1 binding that records, per session, how it was opened and the SQL run through it. */
function recordingD1() {
  const sessions: { start: string; sql: string[] }[] = []
  const d1 = {
    withSession(start: string) {
      const real = env.DB.withSession(start)
      const log = { start, sql: [] as string[] }
      sessions.push(log)
      return {
        prepare(query: string) {
          log.sql.push(query)
          return real.prepare(query)
        },
        batch: (statements: D1PreparedStatement[]) => real.batch(statements),
        getBookmark: () => real.getBookmark(),
      }
    },
  } as unknown as D1Database
  const startOf = (pattern: RegExp) =>
    sessions.filter((s) => s.sql.some((sql) => pattern.test(sql))).map((s) => s.start)
  return { d1, sessions, startOf }
}

async function dispatch(d1: D1Database, nsid: string, init: RequestInit, query = '') {
  const request = new Request(`${BASE}/xrpc/${nsid}${query}`, init)
  const pending: Promise<unknown>[] = []
  try {
    const deps = dispatchDeps(
      env,
      getConfig(env),
      (p) => pending.push(p),
      openRequestSessions(d1, request),
    )
    return await dispatchXrpc(nsid, request, deps)
  } catch (err) {
    return toErrorResponse(err)
  } finally {
    await Promise.all(pending)
  }
}

describe('which session a query goes to', () => {
  const recordQuery = (did: string) =>
    `?repo=${encodeURIComponent(did)}&collection=${POSTS}&rkey=nothing`

  it('an anonymous query starts on the nearest replica; one with a bookmark starts there', async () => {
    const alice = await createTestAccount('sessions')
    const anonymous = recordingD1()
    await dispatch(anonymous.d1, 'com.atproto.repo.getRecord', {}, recordQuery(alice.did))
    // (A miss: asked again of the primary, see below.)
    expect(anonymous.startOf(RECORD_READ)).toEqual(['first-unconstrained', 'first-primary'])

    const bookmark = await primaryBookmark()
    const carried = recordingD1()
    await dispatch(
      carried.d1,
      'com.atproto.repo.getRecord',
      { headers: { [BOOKMARK_HEADER]: bookmark } },
      recordQuery(alice.did),
    )
    expect(carried.startOf(RECORD_READ)).toEqual([bookmark, 'first-primary'])
  })

  it('a miss on a replica is asked again of the primary; a hit is not', async () => {
    const alice = await createTestAccount('sessions')
    const written = await createPost(alice, 'here')
    const rkey = written.body.uri.split('/').pop()!
    const hit = recordingD1()
    const found = await dispatch(
      hit.d1,
      'com.atproto.repo.getRecord',
      {},
      `?repo=${encodeURIComponent(alice.did)}&collection=${POSTS}&rkey=${rkey}`,
    )
    expect(found.status).toBe(200)
    expect(hit.startOf(RECORD_READ)).toEqual(['first-unconstrained'])

    const miss = recordingD1()
    const missing = await dispatch(
      miss.d1,
      'com.atproto.repo.getRecord',
      {},
      recordQuery(alice.did),
    )
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: string }).error).toBe('RecordNotFound')
    expect(miss.startOf(RECORD_READ)).toEqual(['first-unconstrained', 'first-primary'])

    // Already on the primary (a caller with credentials): not asked twice.
    const onPrimary = recordingD1()
    await dispatch(
      onPrimary.d1,
      'com.atproto.repo.getRecord',
      { headers: { authorization: `Bearer ${alice.accessJwt}` } },
      recordQuery(alice.did),
    )
    expect(onPrimary.startOf(RECORD_READ)).toEqual(['first-primary'])

    // The same for a blob and a handle.
    const handle = recordingD1()
    const resolved = await dispatch(
      handle.d1,
      'com.atproto.identity.resolveHandle',
      {},
      '?handle=nobody-here.test',
    )
    expect(resolved.status).toBe(400)
    expect(handle.startOf(/from "account"/i)).toEqual(['first-unconstrained', 'first-primary'])
  })

  it('a caller with credentials and no bookmark (maybe the writer) reads from the primary', async () => {
    const alice = await createTestAccount('sessions')
    const recorded = recordingD1()
    const res = await dispatch(
      recorded.d1,
      'com.atproto.repo.getRecord',
      { headers: { authorization: `Bearer ${alice.accessJwt}` } },
      recordQuery(alice.did),
    )
    expect(res.status).toBe(400)
    expect(recorded.startOf(RECORD_READ)).toEqual(['first-primary'])
  })

  it('procedures read the primary, whatever bookmark they carry', async () => {
    const recorded = recordingD1()
    const res = await dispatch(recorded.d1, 'com.atproto.server.createSession', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [BOOKMARK_HEADER]: await primaryBookmark() },
      body: JSON.stringify({ identifier: 'nobody.test', password: 'not a password' }),
    })
    expect(res.status).toBe(401)
    expect(recorded.startOf(ACCOUNT_READ)).toEqual(['first-primary'])
  })

  it('auth verifiers read the primary, even when the client sends a bookmark', async () => {
    const alice = await createTestAccount('sessions')
    const created = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'replica test' },
      alice.accessJwt,
    )
    const login = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
      identifier: alice.handle,
      password: created.body.password,
    })
    expect(login.status).toBe(200)
    const bookmark = await primaryBookmark()
    const asApp = { authorization: `Bearer ${login.body.accessJwt}`, [BOOKMARK_HEADER]: bookmark }
    const recorded = recordingD1()
    const res = await dispatch(recorded.d1, 'com.atproto.server.getSession', { headers: asApp })
    expect(res.status).toBe(200)
    // The app password's revocation check on the primary, the handler's read at the bookmark.
    expect(recorded.startOf(APP_PASSWORD_READ)).toEqual(['first-primary'])
    expect(recorded.startOf(ACCOUNT_READ)).toEqual([bookmark])
    // So a revocation bites at once, whatever bookmark the app sends.
    const revoked = await xrpcPost(
      'com.atproto.server.revokeAppPassword',
      { name: 'replica test' },
      alice.accessJwt,
    )
    expect(revoked.status).toBe(200)
    const after = await dispatch(recordingD1().d1, 'com.atproto.server.getSession', {
      headers: asApp,
    })
    expect(after.status).toBe(401)
  })
})

describe('latestBookmark', () => {
  it('takes the latest, ignoring missing ones', () => {
    const a = '00000001-00000002-00000003-0123456789abcdef0123456789abcdef'
    const b = '00000001-00000003-00000000-00000000000000000000000000000000'
    expect(latestBookmark([a, null, b, undefined])).toBe(b)
    expect(latestBookmark([null, undefined])).toBeNull()
  })
})
