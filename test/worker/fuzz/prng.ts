/**
 * A small seeded PRNG (mulberry32) for the fuzz test: the same seed gives the same cases on
 * every machine, so a failure printed with its seed reproduces with `FUZZ_SEED=<seed>`.
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  pick<T>(items: readonly T[]): T
  /** `count` distinct items (all of them if there are fewer), in a random order. */
  sample<T>(items: readonly T[], count: number): T[]
  /** Printable ASCII of the given length. */
  ascii(length: number): string
  bytes(length: number): Uint8Array
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list')
      return items[int(items.length)]!
    },
    sample: (items, count) => {
      const copy = [...items]
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(i + 1)
        ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
      }
      return copy.slice(0, count)
    },
    ascii: (length) => {
      let out = ''
      for (let i = 0; i < length; i++) out += String.fromCharCode(32 + int(95))
      return out
    },
    bytes: (length) => {
      const out = new Uint8Array(length)
      for (let i = 0; i < length; i++) out[i] = int(256)
      return out
    },
  }
}

/** A stable 32-bit seed for one part of the run, so adding a method does not reshuffle others. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed >>> 0) ^ 0x811c9dc5
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0
  return h
}
