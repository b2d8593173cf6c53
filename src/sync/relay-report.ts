/** What the relay doctor (src/sync/relay-doctor.ts) found at one relay and did about it. */
export interface RelayReport {
  /** The relay's `status` for our host (active, idle, offline, throttled, banned), or null. */
  hostStatus: string | null
  /** The relay's last seq from us, and ours when it was read. */
  relaySeq: number | null
  ourSeq: number
  /** How many of our accounts the relay counts. */
  accountCount: number | null
  sampled: number
  inSync: number
  /** DIDs found behind or missing, for which a `#sync` was emitted. */
  outOfSync: string[]
  warnings: string[]
  actions: string[]
}
