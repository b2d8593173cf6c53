/**
 * The protocol's size and count limits, in one place so that the Worker (which checks a
 * request early) and the account object (which checks the commit) cannot disagree.
 */

/** A record block, as DAG-CBOR: the sync spec's hard limit on one block of a `#commit`. */
export const MAX_RECORD_BYTES = 1_000_000

/** A commit's CAR slice: the sync spec's hard limit on the `blocks` of a `#commit`. */
export const MAX_COMMIT_CAR_BYTES = 2_000_000

/** Operations in one commit: the `ops` maxLength of `#commit`, as the reference PDS allows. */
export const MAX_WRITES_PER_COMMIT = 200
