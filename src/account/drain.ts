/**
 * Delivers the outbox to the D1 index and the event log (a write is acknowledged once its
 * entry reached both; the R2 archive follows, archiver.ts). Deliveries are serialized and take every pending entry
 * in order, so writes committed while a delivery is in flight share the next one: one D1
 * batch and one sequencer call for all of them. The entries of one commit point (a group)
 * are never split between rounds.
 *
 * Each destination is marked per entry only after it succeeded; a failure leaves the entry for
 * the next attempt, which resends it (every destination is idempotent).
 */
import type { AppendEvent } from '../sequencer/event-log.ts'
import type { Outbox, OutboxRow } from './outbox.ts'
import { indexBytesOf } from './outbox-deliveries.ts'
import { type IndexCommit, withoutValues } from './record-index.ts'
import type { AccountSinks } from './sinks.ts'

/**
 * Entries per delivery round; also bounded by bytes, so one sequencer call stays small, and by
 * D1 statements (a 200-write commit is 201), under D1's per-invocation query limits.
 */
const ROUND_ENTRIES = 100
const ROUND_BYTES = 8 * 1024 * 1024
const ROUND_STATEMENTS = 500
/**
 * How long a write waits for its delivery before it is answered anyway (`indexed: false`):
 * it is durable at the commit point, and the alarm delivers what is left.
 */
export const DELIVERY_DEADLINE_MS = 2000
/** A D1 batch or sequencer call still pending after this is abandoned (and resent later). */
export const SINK_TIMEOUT_MS = 30_000
const RETRY_PAUSE_MS = 50
/**
 * Failed attempts of one commit sent alone before it is sent without its record values (the
 * rows keep CID, rev and blob references; readers take the values from the account object),
 * provided D1 indexed another commit meanwhile: a batch D1 refuses while it accepts others
 * (a value it cannot store, say) must not hold back the account's index, and with it the R2
 * archive and block collection, for good; during an outage, nothing is given up.
 */
const FAILURES_BEFORE_DROPPING_VALUES = 3

export type DrainerOptions = {
  did: () => string
  outbox: Outbox
  sinks: () => AccountSinks
  log: (message: string, err: unknown) => void
}

export class OutboxDrainer {
  private readonly opts: DrainerOptions
  private round: Promise<boolean> | null = null
  /** Set by a failed index batch of several commits: the next ones carry one commit each. */
  private indexOneAtATime = false
  /** Failed attempts of commits sent alone, by outbox id, and when the first one failed. */
  private readonly aloneFailures = new Map<number, { count: number; since: number }>()
  /** When D1 last indexed a batch for this account. */
  private lastIndexedAt = 0
  /**
   * The D1 bookmark after this object's latest index batch (null before one): rounds are
   * serialized, so once `deliver(id)` returned true it covers entry `id`.
   */
  bookmark: string | null = null

  constructor(opts: DrainerOptions) {
    this.opts = opts
  }

  /**
   * Waits until entry `id` reached D1 and the event log, running or joining delivery rounds
   * and retrying failed ones with backoff, for DELIVERY_DEADLINE_MS at most. Returns whether
   * it did (the entry stays queued otherwise).
   */
  async deliver(id: number): Promise<boolean> {
    const { outbox } = this.opts
    const deadline = Date.now() + DELIVERY_DEADLINE_MS
    let pauseMs = RETRY_PAUSE_MS
    for (;;) {
      if (outbox.isDelivered(id)) return true
      const left = deadline - Date.now()
      if (left <= 0) return false
      const ok = await settleWithin(this.runRound(), left, false)
      if (ok || outbox.isDelivered(id)) continue
      await pause(Math.min(pauseMs, Math.max(0, deadline - Date.now())))
      pauseMs *= 2
    }
  }

  /** Delivers everything pending to D1 and the event log; false if a round failed. */
  async deliverAll(): Promise<boolean> {
    for (;;) {
      const pending = this.opts.outbox.pendingDelivery(1)
      if (pending.length === 0) return true
      if (!(await this.runRound())) return false
    }
  }

  private runRound(): Promise<boolean> {
    if (this.round) return this.round
    this.round = this.deliverRound().finally(() => {
      this.round = null
    })
    return this.round
  }

  private async deliverRound(): Promise<boolean> {
    const { outbox, log } = this.opts
    const did = this.opts.did()
    const sinks = this.opts.sinks()
    let toIndex: { ids: number[]; commits: IndexCommit[] }
    let toSequence: { ids: number[]; events: AppendEvent[] }
    try {
      ;({ toIndex, toSequence } = await this.takeRound(outbox.pendingDelivery(ROUND_ENTRIES)))
    } catch (err) {
      log('account outbox: could not read pending entries', err)
      return false
    }
    if (toIndex.ids.length === 0 && toSequence.ids.length === 0) return true
    const [indexed, sequenced] = await Promise.allSettled([
      toIndex.ids.length > 0 ? timed(sinks.index.applyCommits(did, toIndex.commits)) : null,
      toSequence.ids.length > 0
        ? timed(sinks.sequencer.appendEvents(did, toSequence.events))
        : null,
    ])
    if (indexed.status === 'rejected') log('account outbox: D1 index update failed', indexed.reason)
    else if (indexed.value) this.bookmark = indexed.value
    this.noteIndexOutcome(toIndex.ids, indexed.status === 'fulfilled')
    if (sequenced.status === 'rejected') {
      log('account outbox: sequencer append failed', sequenced.reason)
    }
    outbox.markDelivered(
      indexed.status === 'fulfilled' ? toIndex.ids : [],
      sequenced.status === 'fulfilled' ? toSequence.ids : [],
    )
    return indexed.status === 'fulfilled' && sequenced.status === 'fulfilled'
  }

  private async takeRound(rows: OutboxRow[]): Promise<{
    toIndex: { ids: number[]; commits: IndexCommit[] }
    toSequence: { ids: number[]; events: AppendEvent[] }
  }> {
    const toIndex = { ids: [] as number[], commits: [] as IndexCommit[] }
    const toSequence = { ids: [] as number[], events: [] as AppendEvent[] }
    let bytes = 0
    let statements = 0
    let groupEnd = 0
    const alone = this.indexOneAtATime ? this.leastFailed(rows) : null
    for (const row of rows) {
      // The limits end a round between groups only: entries committed together are sent
      // to the sequencer together.
      if (row.id > groupEnd && (bytes >= ROUND_BYTES || statements >= ROUND_STATEMENTS)) break
      groupEnd = Math.max(groupEnd, row.group_end ?? row.id)
      if (row.indexed === 0 && (alone === null || row.id === alone)) {
        const commit = this.indexCommitOf(row)
        bytes += indexBytesOf(commit)
        statements += commit.upserts.length + commit.deletes.length + 1
        toIndex.ids.push(row.id)
        toIndex.commits.push(commit)
      }
      if (row.sequenced === 0) {
        const event = await this.opts.outbox.eventOf(row)
        bytes += event.body.length
        toSequence.ids.push(row.id)
        toSequence.events.push(event)
      }
    }
    return { toIndex, toSequence }
  }

  /**
   * Isolates failing index batches: a batch of several commits that fails is retried one
   * commit at a time (the index is idempotent and guarded by rev, so order does not matter),
   * so one bad commit holds back no other; a commit that keeps failing alone is then sent
   * without its values.
   */
  private noteIndexOutcome(ids: number[], ok: boolean): void {
    if (ok) {
      for (const id of ids) this.aloneFailures.delete(id)
      this.indexOneAtATime = false
      if (ids.length > 0) this.lastIndexedAt = Date.now()
    } else if (ids.length > 1) {
      this.indexOneAtATime = true
    } else if (ids.length === 1) {
      const id = ids[0]!
      const failed = this.aloneFailures.get(id)
      this.aloneFailures.set(id, {
        count: (failed?.count ?? 0) + 1,
        since: failed?.since ?? Date.now(),
      })
    }
  }

  /** The commit to send alone next: the one that failed alone least often, oldest first. */
  private leastFailed(rows: OutboxRow[]): number | null {
    let best: { id: number; failures: number } | null = null
    for (const row of rows) {
      if (row.indexed !== 0) continue
      const failures = this.aloneFailures.get(row.id)?.count ?? 0
      if (!best || failures < best.failures) best = { id: row.id, failures }
    }
    return best?.id ?? null
  }

  private indexCommitOf(row: OutboxRow): IndexCommit {
    const commit = this.opts.outbox.indexOf(row)
    const failed = this.aloneFailures.get(row.id)
    const refusedAlone =
      failed !== undefined &&
      failed.count >= FAILURES_BEFORE_DROPPING_VALUES &&
      this.lastIndexedAt >= failed.since
    if (!refusedAlone) return commit
    this.opts.log(
      `account outbox: D1 keeps refusing commit ${commit.rev}; indexing it without values`,
      null,
    )
    return withoutValues(commit)
  }
}

/** `promise`'s value, or `fallback` if it has not settled within `ms` (a rejection too). */
function settleWithin<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
  })
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer)
  })
}

/** Rejects if the sink call has not settled within SINK_TIMEOUT_MS, freeing the round. */
async function timed<T>(call: Promise<T>): Promise<T> {
  const timedOut = Symbol('timed out')
  const result = await settleWithin<T | typeof timedOut>(call, SINK_TIMEOUT_MS, timedOut)
  if (result === timedOut) throw new Error(`no answer within ${SINK_TIMEOUT_MS} ms`)
  return result
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
