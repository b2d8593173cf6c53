/**
 * Where an account's outbox is delivered. Behind one small interface so tests can make any
 * of them fail (replace `Account.sinks`, see test/worker/account-faults.test.ts).
 */
import type { AppendEvent } from '../sequencer/event-log.ts'
import type { CommitArchive } from './archive.ts'
import type { RecordIndexSink } from './record-index.ts'

export interface SequencerSink {
  /** Appends the account's events in order; retries are deduplicated by outbox id. */
  appendEvents(did: string, events: AppendEvent[]): Promise<number>
}

export type AccountSinks = {
  index: RecordIndexSink
  sequencer: SequencerSink
  archive: CommitArchive
}
