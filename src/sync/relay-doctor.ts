/**
 * The relay doctor: the Cron Trigger's look at each relay in PDS_CRAWLERS, healing what a
 * relay lost of this host. For each relay, in turn:
 *
 * 1. `getHostStatus` for our hostname. Unknown (HostNotFound), idle or offline: request a
 *    crawl. Throttled or banned: a warning (a ban also stops the rest: the relay will not
 *    listen).
 * 2. The relay's `seq` for us above our latest: it would answer our stream with FutureCursor
 *    and stop reconnecting, so the sequencer's next seq moves above it and a crawl is asked.
 * 3. A sample of active accounts (rotating, SAMPLE_SIZE a run) checked with `getRepoStatus`
 *    against our heads: a repo missing, desynchronized or at an older rev gets a `#sync` of
 *    its current head (at most MAX_SYNCS_PER_RUN a run, each account once).
 * 4. A warning when the relay's count or ours nears its per-host account limit (a new host
 *    gets NEW_HOST_ACCOUNT_LIMIT), or when sampled accounts are throttled there.
 *
 * The report of each relay is kept in D1 (`relay_status`) for the admin page's Federation
 * view, with the last actions taken. A relay failing never stops the others.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { unwrapAccountResult } from '../account/errors.ts'
import { accountStub, sequencerStub } from '../bindings.ts'
import { type Config, getConfig } from '../config.ts'
import { type Db, getDb } from '../db/index.ts'
import { account, relayStatus, repoRoot } from '../db/schema.ts'
import type { FetchFn } from '../identity/http.ts'
import type { ScheduledJob } from '../scheduled.ts'
import { RelayClient, type RelayHostView } from './relay-client.ts'
import type { RelayAction, RelayReport } from './relay-report.ts'

/** Accounts checked at each relay per run. */
export const SAMPLE_SIZE = 20
/** `#sync` events emitted per run, over all relays. */
export const MAX_SYNCS_PER_RUN = 10
/** What relays give a host they have just met (bsky.network's default). */
export const NEW_HOST_ACCOUNT_LIMIT = 100
/** Warn once the accounts reach this share of the limit. */
const LIMIT_WARNING_SHARE = 0.8
/** Actions remembered per relay. */
const ACTIONS_KEPT = 20

export interface RelayDoctorOptions {
  /** The relays' transport; the global fetch by default (tests may answer in-process). */
  fetch?: FetchFn
}

/** What one run shares between relays: the #sync budget and the accounts already synced. */
type RunState = { syncsLeft: number; synced: Set<string> }

export async function runRelayDoctor(
  env: Env,
  now: Date,
  opts: RelayDoctorOptions = {},
): Promise<Map<string, RelayReport>> {
  const config = getConfig(env)
  const db = getDb(env.DB)
  const previous = await readRelayReports(db)
  const run: RunState = { syncsLeft: MAX_SYNCS_PER_RUN, synced: new Set() }
  const out = new Map<string, RelayReport>()
  // One relay at a time: seq moves and #sync events are shared work.
  for (const relay of config.crawlers) {
    const report = await examineRelay(env, config, db, relay, {
      now,
      previous: previous.get(relay)?.report ?? null,
      run,
      fetch: opts.fetch,
    }).catch((err: unknown) => {
      // A failure of our own (D1, a Durable Object): still leave a trace for the page.
      console.error(`relay doctor: ${relay} failed`, err)
      return null
    })
    if (!report) continue
    out.set(relay, report)
    await saveRelayReport(db, relay, report, now).catch((err: unknown) =>
      console.error(`relay doctor: saving the report of ${relay} failed`, err),
    )
  }
  return out
}

export const relayDoctorJob: ScheduledJob = {
  name: 'relay-doctor',
  async run(env, now) {
    await runRelayDoctor(env, now)
  },
}

async function examineRelay(
  env: Env,
  config: Config,
  db: Db,
  relay: string,
  ctx: { now: Date; previous: RelayReport | null; run: RunState; fetch?: FetchFn },
): Promise<RelayReport> {
  const sequencer = sequencerStub(env)
  const at = ctx.now.toISOString()
  const actions: RelayAction[] = []
  const act = (action: string) => actions.push({ at, action })
  const ourAccounts = await countActiveAccounts(db)
  const report: RelayReport = {
    reachable: false,
    hostStatus: null,
    relaySeq: null,
    ourSeq: await sequencer.latestSeq(),
    accountCount: null,
    accountLimit: NEW_HOST_ACCOUNT_LIMIT,
    ourAccounts,
    sampled: 0,
    inSync: 0,
    outOfSync: [],
    throttled: 0,
    warnings: [],
    actions: [],
    sampleAfter: ctx.previous?.sampleAfter ?? null,
  }
  const finish = () => {
    report.actions = [...actions.reverse(), ...(ctx.previous?.actions ?? [])].slice(0, ACTIONS_KEPT)
    return report
  }

  let client: RelayClient
  let host: RelayHostView
  try {
    client = new RelayClient(relay, { devMode: config.devMode, fetch: ctx.fetch })
    host = await client.getHostStatus(config.hostname)
  } catch (err) {
    report.warnings.push(`The relay could not be asked: ${message(err)}`)
    return finish()
  }
  report.reachable = true

  const crawlReasons: string[] = []
  if (!host.found) {
    report.hostStatus = 'unknown'
    crawlReasons.push('the relay does not know this host')
  } else {
    report.hostStatus = host.status
    report.relaySeq = host.seq
    report.accountCount = host.accountCount
    report.accountLimit = host.accountLimit ?? NEW_HOST_ACCOUNT_LIMIT
    if (host.status === 'idle' || host.status === 'offline') {
      crawlReasons.push(`the relay holds this host as ${host.status}`)
    }
    if (host.status === 'throttled') {
      report.warnings.push(
        'The relay throttles this host: events reach it slowly. Ask its operator to raise the limits.',
      )
    }
    if (host.status === 'banned') {
      report.warnings.push(
        'The relay has banned this host: it ignores crawl requests and our events. Only its operator can lift the ban.',
      )
      return finish()
    }
    if (host.seq !== null && host.seq > report.ourSeq) {
      const before = report.ourSeq
      report.ourSeq = await sequencer.advanceSeq(host.seq)
      act(
        `Moved our next seq above the relay's ${host.seq} (our latest was ${before}): it refused our stream as a future cursor`,
      )
      crawlReasons.push("our seq was behind the relay's")
    }
  }

  if (crawlReasons.length > 0) {
    try {
      await client.requestCrawl(config.hostname)
      act(`Requested a crawl: ${crawlReasons.join('; ')}`)
    } catch (err) {
      report.warnings.push(`requestCrawl failed: ${message(err)}`)
    }
  }

  const limit = report.accountLimit
  const counted = Math.max(ourAccounts, report.accountCount ?? 0)
  if (counted >= limit * LIMIT_WARNING_SHARE) {
    report.warnings.push(
      `${counted} accounts against the relay's limit of ${limit} per host: accounts past it are throttled there. Ask the relay's operator to raise it.`,
    )
  }

  // A relay that does not know the host yet will crawl it; its repos are checked next time.
  if (host.found) await sampleAccounts(env, db, client, report, ctx.run, act)
  if (report.throttled > 0) {
    report.warnings.push(
      `${report.throttled} of ${report.sampled} sampled accounts are throttled at the relay (its per-host account limit).`,
    )
  }
  return finish()
}

async function sampleAccounts(
  env: Env,
  db: Db,
  client: RelayClient,
  report: RelayReport,
  run: RunState,
  act: (action: string) => void,
): Promise<void> {
  const heads = await nextSample(db, report.sampleAfter)
  let failures = 0
  for (const head of heads) {
    report.sampleAfter = head.did
    let state: 'in-sync' | 'throttled' | 'missing' | 'behind' | 'desynchronized' | 'other'
    let relayRev: string | null = null
    try {
      const view = await client.getRepoStatus(head.did)
      if (!view.found) state = 'missing'
      else if (!view.active) {
        state =
          view.status === 'throttled'
            ? 'throttled'
            : view.status === 'desynchronized'
              ? 'desynchronized'
              : 'other'
      } else {
        relayRev = view.rev
        state = relayRev !== null && relayRev < head.rev ? 'behind' : 'in-sync'
      }
    } catch (err) {
      failures++
      if (failures === 1) report.warnings.push(`getRepoStatus failed: ${message(err)}`)
      continue
    }
    report.sampled++
    if (state === 'in-sync') report.inSync++
    else if (state === 'throttled') report.throttled++
    else if (state === 'other') continue
    else {
      report.outOfSync.push(head.did)
      if (run.synced.has(head.did)) continue
      if (run.syncsLeft <= 0) continue
      run.syncsLeft--
      const why =
        state === 'behind'
          ? `the relay holds rev ${relayRev}, ours is ${head.rev}`
          : `the relay holds it as ${state}`
      try {
        const rev = unwrapAccountResult(await accountStub(env, head.did).emitSync())
        if (rev === null) continue
        run.synced.add(head.did)
        act(`Sent #sync for ${head.did} (rev ${rev}): ${why}`)
      } catch (err) {
        report.warnings.push(`#sync for ${head.did} failed: ${message(err)}`)
      }
    }
  }
  if (failures > 1) report.warnings.push(`getRepoStatus failed for ${failures} accounts`)
}

/** The next SAMPLE_SIZE active accounts after `after` (by DID), wrapping around. */
async function nextSample(db: Db, after: string | null): Promise<{ did: string; rev: string }[]> {
  const page = (from: string | null, limit: number) =>
    db
      .select({ did: repoRoot.did, rev: repoRoot.rev })
      .from(repoRoot)
      .innerJoin(account, eq(account.did, repoRoot.did))
      .where(
        from === null
          ? eq(account.status, 'active')
          : and(eq(account.status, 'active'), gt(repoRoot.did, from)),
      )
      .orderBy(asc(repoRoot.did))
      .limit(limit)
      .all()
  const first = await page(after, SAMPLE_SIZE)
  if (first.length === SAMPLE_SIZE || after === null) return first
  const seen = new Set(first.map((h) => h.did))
  const wrapped = await page(null, SAMPLE_SIZE - first.length)
  return [...first, ...wrapped.filter((h) => !seen.has(h.did))]
}

async function countActiveAccounts(db: Db): Promise<number> {
  const row = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM account WHERE status = 'active'`,
  )
  return row?.n ?? 0
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export async function readRelayReports(
  db: Db,
): Promise<Map<string, { checkedAt: string; report: RelayReport }>> {
  const rows = await db.select().from(relayStatus).all()
  return new Map(
    rows.map((row) => [
      row.relay,
      { checkedAt: row.checkedAt, report: JSON.parse(row.report) as RelayReport },
    ]),
  )
}

export async function saveRelayReport(
  db: Db,
  relay: string,
  report: RelayReport,
  now: Date,
): Promise<void> {
  const row = { relay, checkedAt: now.toISOString(), report: JSON.stringify(report) }
  await db
    .insert(relayStatus)
    .values(row)
    .onConflictDoUpdate({
      target: relayStatus.relay,
      set: { checkedAt: row.checkedAt, report: row.report },
    })
}
