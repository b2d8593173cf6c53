/**
 * app.bsky.actor.getPreferences / putPreferences: stored per account in D1, validated, the
 * birth date kept from app passwords, and forwarded only when the client names another
 * AppView.
 */
import { env, SELF } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ageOn } from '../../src/accounts/preferences.ts'
import { getDb } from '../../src/db/index.ts'
import { listPreferences } from '../../src/db/preferences.ts'
import { BASE, createTestAccount, type TestAccount, xrpcGet, xrpcPost } from './helpers/xrpc.ts'
import { didWebDocument, fakeUpstreams, json, verifyForwardedToken } from './proxy-upstreams.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

const adult = { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }
const savedFeeds = {
  $type: 'app.bsky.actor.defs#savedFeedsPrefV2',
  items: [
    { id: '3kfeed', type: 'timeline', value: 'following', pinned: true },
    {
      id: '3kfeed2',
      type: 'feed',
      value: 'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.generator/whats-hot',
      pinned: false,
    },
  ],
}
const mutedWords = {
  $type: 'app.bsky.actor.defs#mutedWordsPref',
  items: [{ id: '3kword', value: 'spoilers', targets: ['content', 'tag'], actorTarget: 'all' }],
}
const personalDetails = {
  $type: 'app.bsky.actor.defs#personalDetailsPref',
  birthDate: '1990-04-01T00:00:00.000Z',
}

async function getPrefs(token: string) {
  return xrpcGet<{ preferences: Array<Record<string, unknown>> }>(
    'app.bsky.actor.getPreferences',
    {},
    token,
  )
}

async function putPrefs(token: string, preferences: unknown[]) {
  return xrpcPost('app.bsky.actor.putPreferences', { preferences }, token)
}

async function appPasswordSession(account: TestAccount, privileged: boolean): Promise<string> {
  const created = await xrpcPost<{ password: string }>(
    'com.atproto.server.createAppPassword',
    { name: `prefs-${privileged}`, privileged },
    account.accessJwt,
  )
  const session = await xrpcPost<{ accessJwt: string }>('com.atproto.server.createSession', {
    identifier: account.did,
    password: created.body.password,
  })
  expect(session.status).toBe(200)
  return session.body.accessJwt
}

describe('preferences', () => {
  it('start empty and round-trip in order', async () => {
    const alice = await createTestAccount('prefrt')
    expect((await getPrefs(alice.accessJwt)).body).toEqual({ preferences: [] })
    const put = await putPrefs(alice.accessJwt, [adult, savedFeeds, mutedWords])
    expect(put.status).toBe(200)
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([
      adult,
      savedFeeds,
      mutedWords,
    ])
  })

  it('are replaced as a whole by each put, per account', async () => {
    const alice = await createTestAccount('prefrep')
    const bob = await createTestAccount('prefbob')
    await putPrefs(alice.accessJwt, [adult, savedFeeds])
    await putPrefs(bob.accessJwt, [mutedWords])
    await putPrefs(alice.accessJwt, [mutedWords])
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([mutedWords])
    expect((await getPrefs(bob.accessJwt)).body.preferences).toEqual([mutedWords])
    await putPrefs(alice.accessJwt, [])
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([])
  })

  it('keep many preferences and unknown types of the open union', async () => {
    const alice = await createTestAccount('prefmany')
    const many = Array.from({ length: 75 }, (_, i) => ({
      $type: 'app.bsky.actor.defs#hiddenPostsPref',
      items: [`at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/${i}`],
    }))
    const future = { $type: 'app.bsky.actor.defs#somethingNewPref', anything: [1, 2] }
    expect((await putPrefs(alice.accessJwt, [...many, future])).status).toBe(200)
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([...many, future])
  })

  it('are validated against the Lexicon and the app.bsky namespace', async () => {
    const alice = await createTestAccount('prefbad')
    await putPrefs(alice.accessJwt, [adult])
    const refusals: unknown[][] = [
      [{ enabled: true }],
      [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: 'yes' }],
      [{ $type: 'app.bsky.actor.defs#savedFeedsPrefV2' }],
      [{ $type: 'com.example.pref', value: 1 }],
      [adult, { $type: 'app.bskyother#pref' }],
    ]
    for (const preferences of refusals) {
      const res = await putPrefs(alice.accessJwt, preferences)
      expect(res.status, JSON.stringify(preferences)).toBe(400)
      expect(res.body.error).toBe('InvalidRequest')
    }
    const missing = await xrpcPost('app.bsky.actor.putPreferences', {}, alice.accessJwt)
    expect(missing.status).toBe(400)
    // Nothing of the refused puts was stored.
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([adult])
  })

  it('need a session', async () => {
    expect((await xrpcGet('app.bsky.actor.getPreferences')).status).toBe(401)
    expect((await xrpcPost('app.bsky.actor.putPreferences', { preferences: [] })).status).toBe(401)
  })

  it('are private: kept in D1, not in the repo', async () => {
    const alice = await createTestAccount('prefpriv')
    await putPrefs(alice.accessJwt, [mutedWords])
    const rows = await listPreferences(getDb(env.DB), alice.did, null)
    expect(rows.map((r) => JSON.parse(r.value))).toEqual([mutedWords])
    const repo = await xrpcGet<{ collections: string[] }>('com.atproto.repo.describeRepo', {
      repo: alice.did,
    })
    expect(repo.body.collections ?? []).not.toContain('app.bsky.actor.defs')
  })
})

describe('personal details', () => {
  it('derive a read-only declaredAgePref', async () => {
    const alice = await createTestAccount('prefage')
    const declared = { $type: 'app.bsky.actor.defs#declaredAgePref', isOverAge13: false }
    await putPrefs(alice.accessJwt, [personalDetails, declared])
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([
      personalDetails,
      {
        $type: 'app.bsky.actor.defs#declaredAgePref',
        isOverAge13: true,
        isOverAge16: true,
        isOverAge18: true,
      },
    ])
    const rows = await listPreferences(getDb(env.DB), alice.did, 'app.bsky')
    expect(rows.map((r) => r.type)).toEqual(['app.bsky.actor.defs#personalDetailsPref'])
  })

  it('are hidden from app passwords, which cannot set them and leave them in place', async () => {
    const alice = await createTestAccount('prefapp')
    await putPrefs(alice.accessJwt, [personalDetails, adult])
    // The second round sees what the first app-password put left.
    const visible = [adult.$type, mutedWords.$type]
    for (const [round, privileged] of [false, true].entries()) {
      const token = await appPasswordSession(alice, privileged)
      const seen = (await getPrefs(token)).body.preferences
      expect(seen.map((p) => p.$type)).toEqual([
        visible[round],
        'app.bsky.actor.defs#declaredAgePref',
      ])
      const refused = await putPrefs(token, [personalDetails])
      expect(refused.status).toBe(400)
      expect(String(refused.body.message)).toContain('personalDetailsPref')
      expect((await putPrefs(token, [mutedWords])).status).toBe(200)
    }
    expect((await getPrefs(alice.accessJwt)).body.preferences.map((p) => p.$type)).toEqual([
      'app.bsky.actor.defs#personalDetailsPref',
      'app.bsky.actor.defs#mutedWordsPref',
      'app.bsky.actor.defs#declaredAgePref',
    ])
  })

  it('compute the age in whole years', () => {
    const today = new Date('2026-06-15T12:00:00Z')
    expect(ageOn('2010-06-15', today)).toBe(16)
    expect(ageOn('2010-06-16', today)).toBe(15)
    expect(ageOn('2013-07-01T00:00:00Z', today)).toBe(12)
    expect(ageOn('not a date', today)).toBeNull()
  })
})

describe('preferences and account state', () => {
  it('still work for a deactivated account (a migration imports them before activation)', async () => {
    const alice = await createTestAccount('prefdeac')
    expect(
      (await xrpcPost('com.atproto.server.deactivateAccount', {}, alice.accessJwt)).status,
    ).toBe(200)
    expect((await putPrefs(alice.accessJwt, [adult])).status).toBe(200)
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([adult])
  })
})

describe('preferences and atproto-proxy', () => {
  it('are served here when the header names our AppView', async () => {
    const calls = fakeUpstreams({ 'https://api.bsky.app': () => json({ preferences: ['x'] }) })
    const alice = await createTestAccount('prefhdr')
    await putPrefs(alice.accessJwt, [adult])
    const res = await SELF.fetch(`${BASE}/xrpc/app.bsky.actor.getPreferences`, {
      headers: {
        authorization: `Bearer ${alice.accessJwt}`,
        'atproto-proxy': 'did:web:api.bsky.app#bsky_appview',
      },
    })
    expect(await res.json()).toEqual({ preferences: [adult] })
    expect(calls).toHaveLength(0)
  })

  it('go to another AppView the header names', async () => {
    const doc = didWebDocument(
      'other.example',
      'bsky_appview',
      'BskyAppView',
      'https://api.other.example',
    )
    const calls = fakeUpstreams({
      'https://other.example': () => json(doc),
      'https://api.other.example': (req) =>
        req.method === 'GET' ? json({ preferences: [mutedWords] }) : new Response(null),
    })
    const alice = await createTestAccount('prefother')
    await putPrefs(alice.accessJwt, [adult])
    const headers = {
      authorization: `Bearer ${alice.accessJwt}`,
      'atproto-proxy': 'did:web:other.example#bsky_appview',
    }
    const got = await SELF.fetch(`${BASE}/xrpc/app.bsky.actor.getPreferences`, { headers })
    expect(await got.json()).toEqual({ preferences: [mutedWords] })
    const put = await SELF.fetch(`${BASE}/xrpc/app.bsky.actor.putPreferences`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ preferences: [savedFeeds] }),
    })
    expect(put.status).toBe(200)
    const [getCall, putCall] = calls.filter((c) => c.url.origin === 'https://api.other.example')
    await verifyForwardedToken(getCall!, {
      aud: 'did:web:other.example#bsky_appview',
      lxm: 'app.bsky.actor.getPreferences',
    })
    await verifyForwardedToken(putCall!, {
      aud: 'did:web:other.example#bsky_appview',
      lxm: 'app.bsky.actor.putPreferences',
    })
    expect(JSON.parse(putCall!.body)).toEqual({ preferences: [savedFeeds] })
    // Ours are untouched.
    expect((await getPrefs(alice.accessJwt)).body.preferences).toEqual([adult])
  })
})
