/**
 * The protocol's size and count limits, and the rate-limit windows, in one place so that the
 * Worker (which checks a request early) and the account object (which checks the commit, and
 * counts its writes) cannot disagree.
 */

/** A record block, as DAG-CBOR: the sync spec's hard limit on one block of a `#commit`. */
export const MAX_RECORD_BYTES = 1_000_000

/** A commit's CAR slice: the sync spec's hard limit on the `blocks` of a `#commit`. */
export const MAX_COMMIT_CAR_BYTES = 2_000_000

/** Operations in one commit: the `ops` maxLength of `#commit`, as the reference PDS allows. */
export const MAX_WRITES_PER_COMMIT = 200

/**
 * A record as atproto JSON, in UTF-8: what the D1 record index stores and serves. D1 refuses
 * a value over 2,000,000 bytes, and the JSON can be several times the DAG-CBOR (a control
 * character is one byte of CBOR and six of JSON, `\u0001`), so the CBOR limit alone does not
 * keep it under; the rest of the row needs room too.
 */
export const MAX_RECORD_JSON_BYTES = 1_900_000

/**
 * The fixed rate-limit window of `windowSeconds` holding `nowMs`, aligned on a multiple of its
 * length (so every counter of one rule agrees on it, wherever it is counted): its start in ms
 * and the seconds until it ends, a refusal's Retry-After.
 */
export function fixedWindow(
  nowMs: number,
  windowSeconds: number,
): { start: number; retryAfterSeconds: number } {
  const windowMs = windowSeconds * 1000
  const start = Math.floor(nowMs / windowMs) * windowMs
  return { start, retryAfterSeconds: (start + windowMs - nowMs) / 1000 }
}
