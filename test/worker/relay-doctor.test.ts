/**
 * The relay doctor's decisions, run in workerd against real D1 and Durable Objects with relays
 * answered in-process (the loopback stand-in relay and its firehose consumer are the e2e test,
 * test/e2e/relay-doctor.test.ts): a crawl for an unknown or idle host, the sequencer moved
 * above a relay's seq, `#sync` for accounts behind or missing, warnings for throttling, a ban
 * and the account limit, and one relay failing without stopping the others.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { sequencerStub } from '../../src/bindings.ts'
import { decodeCbor } from '../../src/data/cbor.ts'
import { getDb } from '../../src/db/index.ts'
import { readRelayReports, runRelayDoctor } from '../../src/sync/relay-doctor.ts'
import { createTestAccount } from './helpers/xrpc.ts'

type Answer = { status?: number; body?: unknown }
type RelayScript = {
  host: () => Answer
  repo?: (did: string) => Answer | undefined
}

/** Relays answered in-process, by origin; every call is recorded. */
function relays(scripts: Record<string, RelayScript>) {
  const calls: { origin: string; nsid: string; query: string; body: string | null }[] = []
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input)
    const script = scripts[url.origin]
    if (!script) throw new TypeError(`network error: ${url.origin} unreachable`)
    const nsid = url.pathname.replace('/xrpc/', '')
    calls.push({
      origin: url.origin,
      nsid,
      query: url.search,
      body: typeof init?.body === 'string' ? init.body : null,
    })
    let answer: Answer = { status: 501, body: { error: 'MethodNotImplemented' } }
    if (nsid === 'com.atproto.sync.getHostStatus') answer = script.host()
    if (nsid === 'com.atproto.sync.requestCrawl') answer = { body: {} }
    if (nsid === 'com.atproto.sync.getRepoStatus') {
      const did = url.searchParams.get('did') ?? ''
      // By default a repo is held at a rev past any of ours: in sync.
      answer = script.repo?.(did) ?? { body: { did, active: true, rev: '3zzzzzzzzzzzz' } }
    }
    return new Response(JSON.stringify(answer.body ?? {}), {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fetch, calls }
}

/** The Worker's env with these relays configured (config is read per env object). */
function withCrawlers(...crawlers: string[]): Env {
  return { ...env, PDS_CRAWLERS: crawlers.join(',') } as Env
}

const hostStatus = (extra: Record<string, unknown>): Answer => ({
  body: { hostname: 'localhost', accountCount: 2, ...extra },
})

async function eventsAfter(seq: number) {
  const events = await sequencerStub(env).getEvents({ after: seq, limit: 1000 })
  return events.map((e) => ({ ...e, body: decodeCbor(e.body) as Record<string, unknown> }))
}

describe('relay doctor', () => {
  it('requests a crawl from a relay that forgot us, or holds us idle, and samples nothing', async () => {
    await createTestAccount('rdunknown')
    const { fetch, calls } = relays({
      'http://127.0.0.1:7001': {
        host: () => ({ status: 400, body: { error: 'HostNotFound', message: 'unknown host' } }),
      },
      'http://127.0.0.1:7002': { host: () => hostStatus({ status: 'idle', seq: 0 }) },
    })
    const now = new Date('2026-12-01T10:00:00Z')
    const reports = await runRelayDoctor(
      withCrawlers('http://127.0.0.1:7001', 'http://127.0.0.1:7002'),
      now,
      { fetch },
    )
    const forgot = reports.get('http://127.0.0.1:7001')!
    expect(forgot).toMatchObject({ reachable: true, hostStatus: 'unknown', sampled: 0 })
    expect(forgot.actions).toEqual([
      { at: now.toISOString(), action: 'Requested a crawl: the relay does not know this host' },
    ])
    const idle = reports.get('http://127.0.0.1:7002')!
    expect(idle.hostStatus).toBe('idle')
    expect(idle.actions[0]?.action).toBe('Requested a crawl: the relay holds this host as idle')
    const crawls = calls.filter((c) => c.nsid === 'com.atproto.sync.requestCrawl')
    expect(crawls.map((c) => [c.origin, c.body])).toEqual([
      ['http://127.0.0.1:7001', '{"hostname":"localhost"}'],
      ['http://127.0.0.1:7002', '{"hostname":"localhost"}'],
    ])
    expect(calls.find((c) => c.nsid === 'com.atproto.sync.getHostStatus')?.query).toBe(
      '?hostname=localhost',
    )
    // The unknown host's repos are not asked about; the idle one's are.
    const repoCalls = calls.filter((c) => c.nsid === 'com.atproto.sync.getRepoStatus')
    expect(repoCalls.every((c) => c.origin === 'http://127.0.0.1:7002')).toBe(true)
    expect(repoCalls.length).toBeGreaterThan(0)
    // Saved for the admin page.
    const saved = await readRelayReports(getDb(env.DB))
    expect(saved.get('http://127.0.0.1:7001')).toEqual({
      checkedAt: now.toISOString(),
      report: forgot,
    })
  })

  it("moves our seq above a relay's, then requests a crawl; never moves it back", async () => {
    const before = await sequencerStub(env).latestSeq()
    const ahead = before + 1000
    const { fetch, calls } = relays({
      'http://127.0.0.1:7003': { host: () => hostStatus({ status: 'active', seq: ahead }) },
    })
    const target = withCrawlers('http://127.0.0.1:7003')
    const [report] = [...(await runRelayDoctor(target, new Date(), { fetch })).values()]
    expect(report).toMatchObject({ relaySeq: ahead, ourSeq: ahead, hostStatus: 'active' })
    expect(await sequencerStub(env).latestSeq()).toBe(ahead)
    // Newest first.
    expect(report!.actions.map((a) => a.action)).toEqual([
      "Requested a crawl: our seq was behind the relay's",
      `Moved our next seq above the relay's ${ahead} (our latest was ${before}): it refused our stream as a future cursor`,
    ])
    expect(calls.filter((c) => c.nsid === 'com.atproto.sync.requestCrawl')).toHaveLength(1)

    // The next event goes above the relay's seq.
    await createTestAccount('rdafter')
    const events = await eventsAfter(ahead)
    expect(events[0]!.seq).toBe(ahead + 1)

    // A relay at our seq or behind it changes nothing; earlier actions are kept, newest first.
    const again = relays({
      'http://127.0.0.1:7003': { host: () => hostStatus({ status: 'active', seq: ahead - 5 }) },
    })
    const later = new Date()
    const [next] = [...(await runRelayDoctor(target, later, { fetch: again.fetch })).values()]
    expect(next!.ourSeq).toBeGreaterThan(ahead)
    expect(again.calls.filter((c) => c.nsid === 'com.atproto.sync.requestCrawl')).toEqual([])
    expect(next!.actions).toEqual(report!.actions)
  })

  it('sends #sync for accounts held behind or missing, once per run, and counts the rest', async () => {
    const behind = await createTestAccount('rdbehind')
    const missing = await createTestAccount('rdmissing')
    const throttled = await createTestAccount('rdthrottled')
    const desync = await createTestAccount('rddesync')
    const seq = await sequencerStub(env).latestSeq()
    const repo = (did: string): Answer | undefined => {
      if (did === behind.did) return { body: { did, active: true, rev: '2222222222222' } }
      if (did === missing.did) return { status: 400, body: { error: 'RepoNotFound' } }
      if (did === throttled.did) return { body: { did, active: false, status: 'throttled' } }
      if (did === desync.did) return { body: { did, active: false, status: 'desynchronized' } }
      return undefined
    }
    const host = () => hostStatus({ status: 'active', seq: 1 })
    const { fetch } = relays({
      'http://127.0.0.1:7004': { host, repo },
      'http://127.0.0.1:7005': { host, repo },
    })
    const reports = await runRelayDoctor(
      withCrawlers('http://127.0.0.1:7004', 'http://127.0.0.1:7005'),
      new Date(),
      { fetch },
    )
    const first = reports.get('http://127.0.0.1:7004')!
    expect(new Set(first.outOfSync)).toEqual(new Set([behind.did, missing.did, desync.did]))
    expect(first.throttled).toBe(1)
    expect(first.inSync).toBe(first.sampled - 4)
    expect(first.warnings).toContainEqual(
      expect.stringMatching(/1 of \d+ sampled accounts are throttled/),
    )
    const actions = first.actions.map((a) => a.action)
    expect(actions).toHaveLength(3)
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          `^Sent #sync for ${behind.did} .*: the relay holds rev 2222222222222, ours is`,
        ),
        expect.stringMatching(`^Sent #sync for ${missing.did} .*: the relay holds it as missing`),
        expect.stringMatching(
          `^Sent #sync for ${desync.did} .*: the relay holds it as desynchronized`,
        ),
      ]),
    )
    // The second relay finds the same accounts; they were synced once this run.
    const second = reports.get('http://127.0.0.1:7005')!
    expect(second.outOfSync).toHaveLength(3)
    expect(second.actions).toEqual([])

    const syncs = (await eventsAfter(seq)).filter((e) => e.type === '#sync')
    expect(syncs.map((e) => e.did).sort()).toEqual([behind.did, missing.did, desync.did].sort())
    for (const event of syncs) {
      expect(event.body.did).toBe(event.did)
      expect(typeof event.body.rev).toBe('string')
      // Blocks hold the commit (a CAR with one root).
      expect(event.body.blocks).toBeInstanceOf(Uint8Array)
    }
  })

  it('warns of a ban (and stops there), throttling and the account limit', async () => {
    const { fetch, calls } = relays({
      'http://127.0.0.1:7006': { host: () => hostStatus({ status: 'banned', seq: 1 }) },
      'http://127.0.0.1:7007': {
        host: () => hostStatus({ status: 'throttled', seq: 1, accountCount: 85 }),
      },
      'http://127.0.0.1:7008': {
        host: () => hostStatus({ status: 'active', seq: 1, accountCount: 85, accountLimit: 1000 }),
      },
    })
    const reports = await runRelayDoctor(
      withCrawlers('http://127.0.0.1:7006', 'http://127.0.0.1:7007', 'http://127.0.0.1:7008'),
      new Date(),
      { fetch },
    )
    const banned = reports.get('http://127.0.0.1:7006')!
    expect(banned.warnings).toEqual([expect.stringContaining('has banned this host')])
    expect(calls.filter((c) => c.origin === 'http://127.0.0.1:7006').map((c) => c.nsid)).toEqual([
      'com.atproto.sync.getHostStatus',
    ])
    const throttled = reports.get('http://127.0.0.1:7007')!
    expect(throttled.warnings).toEqual([
      expect.stringContaining('throttles this host'),
      expect.stringContaining("85 accounts against the relay's limit of 100 per host"),
    ])
    expect(reports.get('http://127.0.0.1:7008')!.warnings).toEqual([])
  })

  it('goes on past a relay that is down or may not be called', async () => {
    const { fetch } = relays({
      'http://127.0.0.1:7009': { host: () => hostStatus({ status: 'active', seq: 1 }) },
    })
    const reports = await runRelayDoctor(
      withCrawlers('http://127.0.0.1:7010', 'http://10.0.0.1', 'http://127.0.0.1:7009'),
      new Date(),
      { fetch },
    )
    expect(reports.get('http://127.0.0.1:7010')).toMatchObject({
      reachable: false,
      hostStatus: null,
      warnings: [expect.stringContaining('unreachable')],
    })
    // The SSRF check refuses a private address before any fetch.
    expect(reports.get('http://10.0.0.1')).toMatchObject({
      reachable: false,
      warnings: ['The relay could not be asked: not https'],
    })
    expect(reports.get('http://127.0.0.1:7009')).toMatchObject({ reachable: true, warnings: [] })
  })
})
