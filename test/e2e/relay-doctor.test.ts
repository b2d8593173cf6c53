/**
 * The relay doctor end to end: the PDS (`npm run dev`) configured with a stand-in relay on
 * loopback (test/e2e/stand-in-relay.ts: getHostStatus, getRepoStatus, requestCrawl, and a
 * firehose consumer built on `@atproto/sync`), and the Cron Trigger run through Miniflare's
 * `/cdn-cgi/local/scheduled`. The relay loses track of the host three ways, and each is healed
 * with events the relay's consumer accepts:
 *
 * (a) it forgets the host: the doctor requests a crawl, the relay reconnects and catches up;
 * (b) it holds a seq above ours (our state restored from older data): its cursor is refused
 *     as FutureCursor and it gives up; the doctor moves our seq above it and requests a
 *     crawl, and the next events arrive above that seq;
 * (c) it keeps one account behind and lost another: the doctor sends `#sync` for each,
 *     checked by the relay (signature, rev newer than held).
 *
 * Then the Federation page shows the state and the actions (screenshot in test/screenshots/).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { AtpAgent } from '@atproto/api'
import { type IdentityResolverOpts, IdResolver } from '@atproto/identity'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, freePort, runCronNow, startDevServer } from './dev-server.ts'
import { StandInRelay } from './stand-in-relay.ts'

const ADMIN_PASSWORD = 'relay doctor admin password'
const SHOTS = new URL('../screenshots/', import.meta.url).pathname
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

let server: DevServer
let relay: StandInRelay

beforeAll(async () => {
  const pdsPort = await freePort()
  const plcPort = await freePort()
  const idResolver = new IdResolver({
    plcUrl: `http://localhost:${plcPort}`,
    // The default fetch refuses loopback addresses; the local directory is one.
    fetch: globalThis.fetch as IdentityResolverOpts['fetch'],
  })
  relay = new StandInRelay({
    pdsUrl: `http://localhost:${pdsPort}`,
    hostname: 'localhost',
    idResolver,
  })
  await relay.listen()
  server = await startDevServer({
    pdsPort,
    plcPort,
    env: { PDS_CRAWLERS: relay.url, PDS_ADMIN_PASSWORD: ADMIN_PASSWORD },
  })
})

afterAll(async () => {
  await relay?.close()
  await server?.stop()
  server?.removeState()
})

async function waitFor(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function newAgent(prefix: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: server.pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password: 'relay pass' })
  return agent
}

async function head(agent: AtpAgent): Promise<string> {
  const res = await agent.com.atproto.sync.getLatestCommit({ did: agent.session!.did })
  return res.data.rev
}

async function post(agent: AtpAgent, text: string): Promise<string> {
  await agent.post({ text, createdAt: new Date().toISOString() })
  return head(agent)
}

let adminCookie: string | null = null

/** The Federation page's HTML, signed in (once) with the admin password. */
async function federationPage(): Promise<string> {
  if (!adminCookie) {
    const login = await fetch(`${server.pdsUrl}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: ADMIN_PASSWORD }),
      redirect: 'manual',
    })
    adminCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  }
  const page = await fetch(`${server.pdsUrl}/admin/federation`, {
    headers: { cookie: adminCookie },
  })
  expect(page.status).toBe(200)
  return page.text()
}

/** When the doctor last checked the relay, as the page says. */
function checkedAt(html: string): string | undefined {
  return /Checked (\S+)\. State at the relay/.exec(html)?.[1]
}

describe('the relay doctor heals a relay that lost track of the host', () => {
  let alice: AtpAgent
  let bob: AtpAgent
  let carol: AtpAgent

  it('starts with a relay that follows our firehose', async () => {
    alice = await newAgent('rda')
    bob = await newAgent('rdb')
    carol = await newAgent('rdc')
    const aliceRev = await post(alice, 'hello relay')
    // The sequencer asked the relay to crawl on the first event; it replayed from seq 0.
    await waitFor('the relay to hold every account', () =>
      [alice, bob, carol].every((a) => relay.repos.has(a.session!.did)),
    )
    await waitFor(
      "alice's post at the relay",
      () => relay.repos.get(alice.session!.did)?.rev === aliceRev,
    )
    expect(relay.errors).toEqual([])
  })

  it('(a) requests a crawl when the relay forgot the host', async () => {
    await relay.forget()
    const since = Date.now()
    await runCronNow(server)
    await waitFor('a crawl request and the relay reconnecting', () => relay.consuming)
    expect(relay.crawls(since)).toBe(1)
    // It replays from the start and keeps up with new writes.
    const rev = await post(alice, 'after the relay forgot us')
    await waitFor('the relay to catch up', () => relay.repos.get(alice.session!.did)?.rev === rev)
    expect(relay.repos.has(carol.session!.did)).toBe(true)
    expect(relay.errors).toEqual([])
  })

  it('(b) moves our seq above the one the relay holds, then requests a crawl', async () => {
    const ahead = relay.seq + 5000
    await relay.holdSeq(ahead)
    await waitFor('the relay to give up on FutureCursor', () => !relay.consuming)
    expect(relay.refusals).toEqual(['FutureCursor'])
    const since = Date.now()
    await runCronNow(server)
    await waitFor('the relay reconnecting', () => relay.consuming)
    expect(relay.crawls(since)).toBe(1)
    const accepted = relay.accepted.length
    const rev = await post(bob, 'after the seq move')
    await waitFor("bob's post at the relay", () => relay.repos.get(bob.session!.did)?.rev === rev)
    const fresh = relay.accepted.slice(accepted)
    expect(fresh.length).toBeGreaterThan(0)
    expect(fresh.every((evt) => evt.seq > ahead)).toBe(true)
    expect(fresh[0]!.seq).toBe(ahead + 1)
    // No second refusal: the relay's cursor is valid again.
    expect(relay.refusals).toEqual(['FutureCursor'])
    expect(relay.errors).toEqual([])
  })

  it('(c) sends #sync for an account the relay holds behind and one it lost', async () => {
    const bobDid = bob.session!.did
    const carolDid = carol.session!.did
    const before = await head(bob)
    const bobHead = await post(bob, 'the relay misses this one')
    await waitFor("bob's latest at the relay", () => relay.repos.get(bobDid)?.rev === bobHead)
    // The relay loses bob's last commit and carol altogether.
    relay.repos.set(bobDid, { rev: before, active: true })
    relay.repos.delete(carolDid)
    const carolHead = await head(carol)
    const accepted = relay.accepted.length
    const acceptedSeq = relay.seq

    await runCronNow(server)
    // The relay takes a #sync's rev on arrival and lists the event once its signature is
    // checked (an await later): wait for both.
    const healingSyncs = () => relay.accepted.slice(accepted).filter((evt) => evt.event === 'sync')
    await waitFor(
      'bob and carol healed, their #syncs checked',
      () =>
        relay.repos.get(bobDid)?.rev === bobHead &&
        relay.repos.get(carolDid)?.rev === carolHead &&
        healingSyncs().length >= 2,
    )
    const syncs = healingSyncs()
    // Only the two healing ones: none for alice, accepted or ignored as redundant.
    expect(relay.ignoredSyncs.filter((evt) => evt.seq > acceptedSeq)).toEqual([])
    expect(syncs.map((evt) => [evt.did, evt.rev]).sort()).toEqual(
      [
        [bobDid, bobHead],
        [carolDid, carolHead],
      ].sort(),
    )
    expect(relay.errors).toEqual([])
    // That run's report is saved once its sample is done: 1 of 3 in sync.
    await expect.poll(federationPage, { timeout: 15_000 }).toContain('in sync</th><td>1 of 3')
    const firstCheck = checkedAt(await federationPage())

    // A second run finds every sampled account in sync and sends nothing.
    const after = relay.accepted.length
    const ignoredAfter = relay.ignoredSyncs.length
    await runCronNow(server)
    await expect
      .poll(async () => checkedAt(await federationPage()), { timeout: 15_000 })
      .not.toBe(firstCheck)
    expect(await federationPage()).toContain('in sync</th><td>3 of 3')
    expect(relay.accepted.slice(after).filter((evt) => evt.event === 'sync')).toEqual([])
    expect(relay.ignoredSyncs.slice(ignoredAfter)).toEqual([])
  })

  it('shows the relay, our seq against its, the sample and the actions on the Federation page', async () => {
    const html = await federationPage()
    expect(html).toContain(relay.url)
    expect(html).toContain('State at the relay: <strong>active</strong>')
    expect(html).toContain('Sampled accounts in sync</th><td>3 of 3')
    expect(html).toContain('Requested a crawl: the relay does not know this host')
    expect(html).toMatch(/Moved our next seq above the relay&#39;s \d+/)
    expect(html).toContain(`Sent #sync for ${bob.session!.did}`)
    expect(html).toContain(`Sent #sync for ${carol.session!.did}`)

    mkdirSync(SHOTS, { recursive: true })
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true })
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } })
      await page.goto(`${server.pdsUrl}/admin`)
      await page.getByLabel('Admin password').fill(ADMIN_PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('link', { name: 'Federation' }).click()
      await page.getByRole('heading', { name: relay.url }).waitFor()
      await page.getByText('Last actions').waitFor()
      await page.screenshot({ path: `${SHOTS}admin-federation-healed.png`, fullPage: true })
    } finally {
      await browser.close()
    }
  })
})
