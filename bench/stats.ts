/** Small statistics over latency samples (milliseconds). */

/** The q-quantile (0..1) by nearest rank: a value that was actually observed. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5)
}

/** Per-second rate of `count` things done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Number.NaN
}
