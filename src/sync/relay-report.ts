/** What the relay doctor (src/sync/relay-doctor.ts) found at one relay and did about it. */
export interface RelayReport {
  /** False when the relay could not be asked (down, refused by the SSRF check, bad answer). */
  reachable: boolean
  /**
   * The relay's `status` for our host (active, idle, offline, throttled, banned), `unknown`
   * when it answered HostNotFound, or null when it was not reached.
   */
  hostStatus: string | null
  /** The relay's last seq from us, and ours when it was read (after any move). */
  relaySeq: number | null
  ourSeq: number
  /** How many of our accounts the relay counts, its per-host limit, and how many we host. */
  accountCount: number | null
  accountLimit: number
  ourAccounts: number
  /** This run's sample of accounts checked with getRepoStatus. */
  sampled: number
  inSync: number
  /** DIDs found behind or missing, for which a `#sync` was emitted. */
  outOfSync: string[]
  /** Sampled accounts the relay holds as throttled (its per-host account limit). */
  throttled: number
  warnings: string[]
  /** The latest actions taken at this relay, newest first, kept across runs. */
  actions: RelayAction[]
  /** The last DID sampled: the next run's sample starts after it. */
  sampleAfter: string | null
}

export interface RelayAction {
  at: string
  action: string
}
