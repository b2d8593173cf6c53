/**
 * The host's sequencer: the event log, its subscribers, retention and relay notification.
 * The logic behind the sequencer Durable Object (worker/sequencer-durable-object.ts).
 *
 * An append stores the events (one SQLite transaction, seq assigned there) and hands them to
 * the live subscribers in the same step; the object's output gate releases the frames once
 * the write is durable, so a frame is never sent for an event that could be lost.
 */

import type { SqlStorageLike } from '../storage/sql.ts'
import { type AppendEvent, EventLog } from './event-log.ts'
import { type Clock, FirehoseHub, type FirehoseOptions } from './firehose.ts'

export type SequencerHost = {
  storage: SqlStorageLike
  /** How long events stay replayable. */
  retentionMs: number
  /** Schedules the object's alarm (replacing any), which must call `runAlarm`. */
  setAlarm(at: number): void
  /** Sends requestCrawl to the relays (in the background); null when none is configured. */
  requestCrawl: (() => Promise<void>) | null
  /** At most one crawl request per this interval while events flow. */
  crawlIntervalMs: number
  firehose?: Partial<FirehoseOptions>
  clock?: Clock
  log?(message: string, err: unknown): void
}

/** Events deleted per retention transaction, so pruning never blocks the object for long. */
const PRUNE_BATCH = 5000
/** Batches per alarm run; the rest is left to an alarm one second later. */
const PRUNE_BATCHES_PER_RUN = 20
const LAST_CRAWL_KEY = 'last_crawl_request'

export class Sequencer {
  readonly log: EventLog
  readonly hub: FirehoseHub
  private readonly host: SequencerHost
  private alarmAt: number | null = null
  private lastCrawl: number | null = null

  constructor(host: SequencerHost) {
    this.host = host
    this.log = new EventLog(host.storage)
    const onError = (message: string, err: unknown) => this.report(message, err)
    this.hub = new FirehoseHub(this.log, { options: host.firehose, clock: host.clock, onError })
  }

  /** Run once when the object starts, with the alarm it has scheduled (if any). */
  start(currentAlarm: number | null): void {
    this.alarmAt = currentAlarm
  }

  /** Appends one account's events (retries dropped) and sends them out; returns the last seq. */
  append(did: string, events: AppendEvent[]): number {
    const appended = this.log.appendEvents(did, events, new Date(this.now()))
    if (appended.length === 0) return this.log.latestSeq()
    this.hub.publish(appended)
    this.ensureAlarm()
    this.maybeRequestCrawl()
    return appended.at(-1)!.seq
  }

  /** The alarm: deletes events older than the retention window, a batch at a time. */
  async runAlarm(): Promise<void> {
    this.alarmAt = null
    const cutoff = new Date(this.now() - this.host.retentionMs).toISOString()
    for (let i = 0; i < PRUNE_BATCHES_PER_RUN; i++) {
      if (this.log.prune(cutoff, PRUNE_BATCH) < PRUNE_BATCH) {
        if (this.log.oldestSeq() !== null) this.scheduleAlarm(this.now() + this.pruneInterval())
        return
      }
      // Let appends and replays run between batches.
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
    this.scheduleAlarm(this.now() + 1000)
  }

  private ensureAlarm(): void {
    if (this.alarmAt === null) this.scheduleAlarm(this.now() + this.pruneInterval())
  }

  private scheduleAlarm(at: number): void {
    this.alarmAt = at
    this.host.setAlarm(at)
  }

  /** Pruning runs often enough that events outlive the window by at most a quarter of it. */
  private pruneInterval(): number {
    return Math.max(60_000, Math.min(60 * 60_000, Math.floor(this.host.retentionMs / 4)))
  }

  private maybeRequestCrawl(): void {
    const request = this.host.requestCrawl
    if (!request) return
    const now = this.now()
    this.lastCrawl ??= this.log.getMeta(LAST_CRAWL_KEY) ?? 0
    if (now - this.lastCrawl < this.host.crawlIntervalMs) return
    this.lastCrawl = now
    this.log.setMeta(LAST_CRAWL_KEY, now)
    request().catch((err) => this.report('sequencer: requestCrawl failed', err))
  }

  private now(): number {
    return this.host.clock?.now() ?? Date.now()
  }

  private report(message: string, err: unknown): void {
    if (this.host.log) this.host.log(message, err)
    else console.error(message, err)
  }
}
