import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  InvalidSyntaxError,
  isValidTid,
  nextTid,
  tidFromTimestampMicros,
  tidToClockId,
  tidToTimestampMicros,
} from '../../src/syntax/index.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('nextTid', () => {
  it('returns 10,000 valid, strictly increasing TIDs', () => {
    let previous = nextTid()
    expect(isValidTid(previous)).toBe(true)
    for (let i = 0; i < 10_000; i++) {
      const tid = nextTid()
      expect(isValidTid(tid), tid).toBe(true)
      expect(tid > previous, `${tid} > ${previous}`).toBe(true)
      previous = tid
    }
  })

  it('uses the wall clock in microseconds and one clock id per process', () => {
    const before = Date.now() * 1000
    const a = nextTid()
    const b = nextTid()
    expect(tidToTimestampMicros(a)).toBeGreaterThanOrEqual(before)
    // Ahead of the clock only by the per-call counter.
    expect(tidToTimestampMicros(b)).toBeLessThan((Date.now() + 60_000) * 1000)
    expect(tidToClockId(a)).toBe(tidToClockId(b))
  })

  it('keeps increasing when the clock goes backwards or stands still', () => {
    const first = nextTid()
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now - 3_600_000)
    const second = nextTid()
    const third = nextTid()
    expect(second > first).toBe(true)
    expect(third > second).toBe(true)
  })

  it('is greater than a previous TID from the future', () => {
    const future = tidFromTimestampMicros((Date.now() + 86_400_000) * 1000, 1023)
    const tid = nextTid(future)
    expect(isValidTid(tid)).toBe(true)
    expect(tid > future).toBe(true)
    expect(tidToTimestampMicros(tid)).toBe(tidToTimestampMicros(future) + 1)
    // And later calls stay ahead of it even without `previous`.
    expect(nextTid() > tid).toBe(true)
  })

  it('accepts null or an older previous TID', () => {
    const old = tidFromTimestampMicros(1_000_000, 0)
    const tid = nextTid(old)
    expect(tid > old).toBe(true)
    expect(nextTid(null) > tid).toBe(true)
  })

  it('rejects an invalid previous TID', () => {
    expect(() => nextTid('not-a-tid')).toThrow(InvalidSyntaxError)
    expect(() => nextTid('jzzzzzzzzzzzz')).toThrow(RangeError)
  })
})

describe('TID timestamp helpers', () => {
  it('round-trips micros and clock id', () => {
    const cases: [number, number][] = [
      [0, 0],
      [1, 1],
      [1_700_000_000_123_456, 513],
      [Date.now() * 1000, 42],
      [2 ** 53 - 1, 1023],
    ]
    for (const [micros, clockId] of cases) {
      const tid = tidFromTimestampMicros(micros, clockId)
      expect(isValidTid(tid), tid).toBe(true)
      expect(tidToTimestampMicros(tid)).toBe(micros)
      expect(tidToClockId(tid)).toBe(clockId)
    }
  })

  it('matches known encodings', () => {
    expect(tidFromTimestampMicros(0, 0)).toBe('2222222222222')
    expect(tidFromTimestampMicros(2 ** 53 - 1, 1023)).toBe('bzzzzzzzzzzzz')
    // Independent decode of the spec's 64-bit layout with BigInt.
    for (const tid of ['3jzfcijpj2z2a', '7777777777777', '3zzzzzzzzzzzz', '2222222222222']) {
      let value = 0n
      for (const ch of tid)
        value = value * 32n + BigInt('234567abcdefghijklmnopqrstuvwxyz'.indexOf(ch))
      expect(tidToTimestampMicros(tid), tid).toBe(Number(value >> 10n))
      expect(tidToClockId(tid), tid).toBe(Number(value & 1023n))
    }
  })

  it('sorts as strings in timestamp order', () => {
    const a = tidFromTimestampMicros(1_000_000, 1023)
    const b = tidFromTimestampMicros(1_000_001, 0)
    expect(a < b).toBe(true)
  })

  it('rejects out-of-range input', () => {
    expect(() => tidFromTimestampMicros(-1, 0)).toThrow(RangeError)
    expect(() => tidFromTimestampMicros(2 ** 53, 0)).toThrow(RangeError)
    expect(() => tidFromTimestampMicros(1.5, 0)).toThrow(RangeError)
    expect(() => tidFromTimestampMicros(0, 1024)).toThrow(RangeError)
    expect(() => tidToTimestampMicros('3JZFCIJPJ2Z2A')).toThrow(InvalidSyntaxError)
  })
})
