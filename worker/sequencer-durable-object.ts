import { DurableObject } from 'cloudflare:workers'

/**
 * The host-wide event sequencer behind `com.atproto.sync.subscribeRepos`.
 * @TODO the event log and WebSocket fan-out arrive with the sync issue.
 */
export class SequencerDurableObject extends DurableObject<Env> {}
