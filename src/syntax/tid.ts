/**
 * TIDs: 13 base32-sortable chars encoding a 64-bit integer whose top bit is 0, then
 * 53 bits of microseconds since the UNIX epoch, then a 10-bit clock id.
 * String order equals time order. https://atproto.com/specs/tid
 */
import { syntaxError } from './errors.ts'

export const TID_LENGTH = 13

const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz'
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/
const MAX_CLOCK_ID = 1023

const DIGIT_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DIGIT_VALUES[ALPHABET.charCodeAt(i)] = i

let lastMicros = 0
let processClockId: number | undefined

export function isValidTid(value: string): boolean {
  return value.length === TID_LENGTH && TID_RE.test(value)
}

export function ensureValidTid(value: string): void {
  if (isValidTid(value)) return
  let reason = `only the characters "${ALPHABET}" are allowed (lowercase)`
  if (value.length !== TID_LENGTH) reason = `must be exactly ${TID_LENGTH} characters`
  else if (/^[a-z2-7]+$/.test(value))
    reason = 'the first character must be one of "234567abcdefghij"'
  throw syntaxError('TID', value, reason)
}

/**
 * A new TID from the wall clock, greater than every TID this process returned before and
 * greater than `previous` when given (so a repo `rev` keeps increasing even if the clock
 * went backwards or the previous rev came from a clock running ahead).
 */
export function nextTid(previous?: string | null): string {
  // @NOTE Workers freeze Date.now() during a request, so the +1 is what keeps TIDs unique there.
  let micros = Math.max(Date.now() * 1000, lastMicros + 1)
  if (previous != null) {
    ensureValidTid(previous)
    if (previous.charAt(0) > 'b') {
      throw new RangeError(`No TID can follow ${previous}: its top bit is set`)
    }
    const previousMicros = tidToTimestampMicros(previous)
    if (micros <= previousMicros) micros = previousMicros + 1
  }
  lastMicros = micros
  return tidFromTimestampMicros(micros, clockId())
}

/** The microsecond timestamp of a TID (the top bit, which should be 0, is ignored). */
export function tidToTimestampMicros(tid: string): number {
  ensureValidTid(tid)
  let micros = digitAt(tid, 0) & 0b111
  for (let i = 1; i < TID_LENGTH - 2; i++) micros = micros * 32 + digitAt(tid, i)
  return micros
}

/** The 10-bit clock id of a TID. */
export function tidToClockId(tid: string): number {
  ensureValidTid(tid)
  return digitAt(tid, TID_LENGTH - 2) * 32 + digitAt(tid, TID_LENGTH - 1)
}

export function tidFromTimestampMicros(micros: number, clockId: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) {
    throw new RangeError(`TID timestamp must be an integer in [0, 2^53): ${micros}`)
  }
  if (!Number.isInteger(clockId) || clockId < 0 || clockId > MAX_CLOCK_ID) {
    throw new RangeError(`TID clock id must be an integer in [0, ${MAX_CLOCK_ID}]: ${clockId}`)
  }
  let head = ''
  let rest = micros
  for (let i = 0; i < TID_LENGTH - 2; i++) {
    head = ALPHABET.charAt(rest % 32) + head
    rest = Math.floor(rest / 32)
  }
  return head + ALPHABET.charAt(clockId >> 5) + ALPHABET.charAt(clockId & 31)
}

function digitAt(tid: string, index: number): number {
  return DIGIT_VALUES[tid.charCodeAt(index)]!
}

// Drawn lazily: Workers forbid random generation at module scope.
function clockId(): number {
  if (processClockId === undefined) {
    processClockId = crypto.getRandomValues(new Uint16Array(1))[0]! & MAX_CLOCK_ID
  }
  return processClockId
}
