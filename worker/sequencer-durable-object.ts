import { DurableObject } from 'cloudflare:workers'
import { type AppendEvent, EventLog, type SequencedEvent } from '../src/sequencer/event-log.ts'

/** The one sequencer of the host. */
export function getSequencer(env: Env): DurableObjectStub<SequencerDurableObject> {
  return env.SEQUENCER.get(env.SEQUENCER.idFromName('main'))
}

/**
 * The host-wide event sequencer behind `com.atproto.sync.subscribeRepos`: thin glue around
 * EventLog (src/sequencer/event-log.ts).
 * @TODO WebSocket fan-out, cursors and the backfill window arrive with the sync issue.
 */
export class SequencerDurableObject extends DurableObject<Env> {
  readonly log: EventLog

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.log = new EventLog(ctx.storage)
  }

  async appendEvents(did: string, events: AppendEvent[]): Promise<number> {
    return this.log.append(did, events)
  }

  async getEvents(options: { after: number; limit: number }): Promise<SequencedEvent[]> {
    return this.log.getEvents(options.after, options.limit)
  }

  async latestSeq(): Promise<number> {
    return this.log.latestSeq()
  }
}
