/**
 * The host-wide event log behind `com.atproto.sync.subscribeRepos`: every account's events,
 * stamped with one increasing `seq` and persisted before anyone is sent them.
 *
 * Account objects deliver their outbox here, at least once and in order; each event carries
 * its outbox id, and an event whose id is not above the last one seen for its DID is a retry
 * and is dropped, so a retried delivery never duplicates an event.
 */
import { blobBytes, type SqlRow, type SqlStorageLike } from '../storage/sql.ts'

export type EventType = '#commit' | '#identity' | '#account' | '#sync'

export const EVENT_TYPES: readonly EventType[] = ['#commit', '#identity', '#account', '#sync']

/** What an account hands over: the DAG-CBOR body of the message, without `seq`. */
export type AppendEvent = { outboxId: number; type: EventType; body: Uint8Array }

/** A stored event; a frame is `{op: 1, t: type}` then the body with `seq` added. */
export type SequencedEvent = {
  seq: number
  did: string
  type: EventType
  body: Uint8Array
  /** When the sequencer stored it (ISO 8601). */
  time: string
}

export class EventLogError extends Error {
  override name = 'EventLogError'
}

/**
 * A Durable Object SQLite row is limited to 2 MB, and a #commit body can reach just over that
 * (a 2,000,000-byte CAR plus its fields), so large bodies are split across part rows.
 */
const MAX_INLINE_BODY = 1_000_000

const SCHEMA = [
  // AUTOINCREMENT: a seq is never reused, even after old events are trimmed.
  `CREATE TABLE IF NOT EXISTS event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    did TEXT NOT NULL,
    type TEXT NOT NULL,
    body BLOB NOT NULL,
    parts INTEGER NOT NULL DEFAULT 0,
    time TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS event_part (
    seq INTEGER NOT NULL,
    part INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (seq, part)
  )`,
  `CREATE TABLE IF NOT EXISTS event_source (
    did TEXT PRIMARY KEY,
    last_outbox_id INTEGER NOT NULL
  )`,
  // Account deletion drops one DID's events (purgeAccount).
  'CREATE INDEX IF NOT EXISTS event_did ON event (did, seq)',
  // Small named values: how far retention has trimmed the log, when relays were last told.
  `CREATE TABLE IF NOT EXISTS sequencer_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  )`,
]

type EventRow = SqlRow & {
  seq: number
  did: string
  type: string
  body: ArrayBuffer
  parts: number
  time: string
}

export class EventLog {
  private readonly storage: SqlStorageLike

  constructor(storage: SqlStorageLike) {
    this.storage = storage
    for (const statement of SCHEMA) storage.sql.exec(statement)
  }

  /**
   * Appends the events of one account, in the given order, skipping retries; returns the seq
   * of the last event appended, or the latest seq of the log when every event was a retry.
   */
  append(did: string, events: AppendEvent[], now: Date = new Date()): number {
    const appended = this.appendEvents(did, events, now)
    return appended.at(-1)?.seq ?? this.latestSeq()
  }

  /** As `append`, returning the events actually stored (retries left out), oldest first. */
  appendEvents(did: string, events: AppendEvent[], now: Date = new Date()): SequencedEvent[] {
    for (const event of events) {
      if (!EVENT_TYPES.includes(event.type)) {
        throw new EventLogError(`unknown event type ${String(event.type)}`)
      }
      if (!Number.isSafeInteger(event.outboxId) || event.outboxId <= 0) {
        throw new EventLogError(`bad outbox id ${String(event.outboxId)}`)
      }
      if (!(event.body instanceof Uint8Array)) throw new EventLogError('event body must be bytes')
    }
    const time = now.toISOString()
    const { sql } = this.storage
    return this.storage.transactionSync(() => {
      const source = sql
        .exec<{ last: number }>(
          'SELECT last_outbox_id AS last FROM event_source WHERE did = ?',
          did,
        )
        .toArray()[0]
      let last = source?.last ?? 0
      const appended: SequencedEvent[] = []
      for (const event of events) {
        if (event.outboxId <= last) continue
        const seq = this.insert(did, event, time)
        appended.push({ seq, did, type: event.type, body: event.body, time })
        last = event.outboxId
      }
      if (appended.length === 0) return appended
      sql.exec(
        `INSERT INTO event_source (did, last_outbox_id) VALUES (?, ?)
         ON CONFLICT (did) DO UPDATE SET last_outbox_id = excluded.last_outbox_id`,
        did,
        last,
      )
      return appended
    })
  }

  /**
   * Events with seq > `after`, oldest first: at most `limit` of them, and no more once
   * `maxBytes` of bodies are read (at least one event is returned if any is there).
   */
  getEvents(after: number, limit: number, maxBytes = Number.POSITIVE_INFINITY): SequencedEvent[] {
    const rows = this.storage.sql.exec<EventRow>(
      'SELECT seq, did, type, body, parts, time FROM event WHERE seq > ? ORDER BY seq LIMIT ?',
      after,
      Math.max(0, Math.floor(limit)),
    )
    const out: SequencedEvent[] = []
    let bytes = 0
    // Rows are read one at a time, so stopping early leaves the rest of the page unread.
    for (const row of rows) {
      const body = row.parts > 0 ? this.joinParts(row) : blobBytes(row.body)
      out.push({ seq: row.seq, did: row.did, type: row.type as EventType, body, time: row.time })
      bytes += body.length
      if (bytes >= maxBytes) break
    }
    return out
  }

  /** The seq of the oldest stored event, or null when the log is empty. */
  oldestSeq(): number | null {
    const row = this.storage.sql.exec<{ seq: number }>('SELECT min(seq) AS seq FROM event').one()
    return row.seq ?? null
  }

  /** The highest seq trimmed by retention (0 when nothing was): older cursors are outdated. */
  prunedThrough(): number {
    return this.getMeta('pruned_through') ?? 0
  }

  /**
   * Deletes up to `maxEvents` of the oldest events stored before `cutoff` (ISO 8601), in one
   * transaction; returns how many were deleted. Stops at the first event at or after the
   * cutoff, so the log stays a contiguous suffix even if the clock once stepped back.
   */
  prune(cutoff: string, maxEvents: number): number {
    const { sql } = this.storage
    return this.storage.transactionSync(() => {
      const rows = sql
        .exec<{ seq: number; time: string }>(
          'SELECT seq, time FROM event ORDER BY seq LIMIT ?',
          Math.max(1, Math.floor(maxEvents)),
        )
        .toArray()
      let last = 0
      for (const row of rows) {
        if (row.time >= cutoff) break
        last = row.seq
      }
      if (last === 0) return 0
      const { n } = sql
        .exec<{ n: number }>('SELECT count(*) AS n FROM event WHERE seq <= ?', last)
        .one()
      sql.exec('DELETE FROM event_part WHERE seq <= ?', last)
      sql.exec('DELETE FROM event WHERE seq <= ?', last)
      this.setMeta('pruned_through', Math.max(last, this.prunedThrough()))
      return n
    })
  }

  /**
   * Drops every event of `did` but its last one, the `#account` deleted notice, as the
   * reference PDS does on account deletion: a relay replaying the window no longer receives
   * the deleted account's records. Returns how many events were dropped.
   */
  purgeAccount(did: string): number {
    const { sql } = this.storage
    return this.storage.transactionSync(() => {
      const last = sql
        .exec<{ seq: number | null }>('SELECT max(seq) AS seq FROM event WHERE did = ?', did)
        .one().seq
      if (last === null) return 0
      const { n } = sql
        .exec<{ n: number }>('SELECT count(*) AS n FROM event WHERE did = ? AND seq < ?', did, last)
        .one()
      sql.exec(
        'DELETE FROM event_part WHERE seq IN (SELECT seq FROM event WHERE did = ? AND seq < ?)',
        did,
        last,
      )
      sql.exec('DELETE FROM event WHERE did = ? AND seq < ?', did, last)
      return n
    })
  }

  getMeta(key: string): number | null {
    const row = this.storage.sql
      .exec<{ value: number }>('SELECT value FROM sequencer_meta WHERE key = ?', key)
      .toArray()[0]
    return row?.value ?? null
  }

  setMeta(key: string, value: number): void {
    this.storage.sql.exec(
      `INSERT INTO sequencer_meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      key,
      value,
    )
  }

  /** The highest seq ever assigned (0 when none), even if that event was since trimmed. */
  latestSeq(): number {
    const row = this.storage.sql
      .exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'event'")
      .toArray()[0]
    return row?.seq ?? 0
  }

  /**
   * Makes the next seq at least `floor + 1` (a relay holds a seq of ours above our log, after
   * this host's state was lost or restored, and refuses our stream as FutureCursor until we
   * pass it). Seqs only move forward, and a gap is allowed by the spec. Returns the latest seq.
   */
  advanceSeq(floor: number): number {
    if (!Number.isSafeInteger(floor) || floor < 0) {
      throw new EventLogError(`bad seq ${String(floor)}`)
    }
    const { sql } = this.storage
    return this.storage.transactionSync(() => {
      const latest = this.latestSeq()
      if (floor <= latest) return latest
      // AUTOINCREMENT continues from sqlite_sequence, whose row exists after the first insert.
      const updated = sql
        .exec("UPDATE sqlite_sequence SET seq = ? WHERE name = 'event' RETURNING seq", floor)
        .toArray()
      if (updated.length === 0) {
        sql.exec("INSERT INTO sqlite_sequence (name, seq) VALUES ('event', ?)", floor)
      }
      return this.latestSeq()
    })
  }

  private insert(did: string, event: AppendEvent, time: string): number {
    const { sql } = this.storage
    const { body } = event
    const parts = body.length > MAX_INLINE_BODY ? Math.ceil(body.length / MAX_INLINE_BODY) - 1 : 0
    const { seq } = sql
      .exec<{ seq: number }>(
        'INSERT INTO event (did, type, body, parts, time) VALUES (?, ?, ?, ?, ?) RETURNING seq',
        did,
        event.type,
        body.subarray(0, MAX_INLINE_BODY),
        parts,
        time,
      )
      .one()
    for (let part = 1; part <= parts; part++) {
      const start = part * MAX_INLINE_BODY
      sql.exec(
        'INSERT INTO event_part (seq, part, bytes) VALUES (?, ?, ?)',
        seq,
        part,
        body.subarray(start, start + MAX_INLINE_BODY),
      )
    }
    return seq
  }

  private joinParts(row: EventRow): Uint8Array {
    const chunks = [blobBytes(row.body)]
    for (const part of this.storage.sql.exec<{ bytes: ArrayBuffer }>(
      'SELECT bytes FROM event_part WHERE seq = ? ORDER BY part',
      row.seq,
    )) {
      chunks.push(blobBytes(part.bytes))
    }
    const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
    let offset = 0
    for (const chunk of chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  }
}
