/** What the bench build records (bench/worker/instrument.ts) and the bench reads. */

/** Where a hop starts: the Worker or one of the Durable Objects. */
export type Place = 'worker' | 'account' | 'sequencer'
export type HopKind = 'd1' | 'r2' | 'do' | 'fetch'

export interface Hop {
  from: Place
  kind: HopKind
  /** `D1 all`, `R2 put`, `account.applyWrites`, `fetch 127.0.0.1` ... */
  op: string
  /** The Durable Object a `do` hop goes to (its own hops nest inside this one). */
  to: Place | null
  start: number
  end: number
  /** Wall-clock milliseconds, as coarse as workerd's clock. */
  startMs: number
  endMs: number
  failed: boolean
}

export interface RequestMark {
  path: string
  start: number
  end: number
}

export interface Trace {
  requests: RequestMark[]
  hops: Hop[]
}
