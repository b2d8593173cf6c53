/**
 * Fuzz cases that fail today and are being fixed elsewhere (issue #13). Each entry tolerates the
 * failures it matches; the test fails when the run tried cases an entry matches and none of
 * them failed, so an entry is removed as soon as its fix lands.
 */
import type { FuzzClass } from './cases.ts'

/** The fuzz classes, and the other groups of probes the test sends. */
export type ProbeKind =
  | FuzzClass
  | 'auth'
  | 'proxy'
  | 'unimplemented'
  | 'subscription'
  | 'range'
  | 'path'
  | 'random-record'
  | 'proto-key'

export interface KnownFailure {
  /** The method (exact NSID), or a pattern. */
  nsid: string | RegExp
  kind: ProbeKind
  /** Only the cases whose label matches; all of the class otherwise. */
  label?: RegExp
  /** The issue #13 item that covers it. */
  issue: string
}

/** Empty: every failure the first run found is fixed; add one only with its issue. */
export const KNOWN_FAILURES: KnownFailure[] = []
