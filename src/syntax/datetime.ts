/**
 * Lexicon `datetime`: the intersection of RFC 3339 and ISO 8601. Uppercase `T` and `Z`,
 * whole seconds required, arbitrary fractional digits, a timezone required and `-00:00`
 * forbidden. The value must also be a real instant from year 0000 to 9999 in UTC.
 * https://atproto.com/specs/lexicon
 */
import { syntaxError } from './errors.ts'

const DATETIME_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/

const MINUTES_PER_DAY = 24 * 60

interface DatetimeFields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millis: number
  /** Offset from UTC in minutes (local time = UTC + offset). */
  offset: number
}

export function isValidDatetime(value: string): boolean {
  return typeof parseDatetime(value) !== 'string'
}

export function ensureValidDatetime(value: string): void {
  const fields = parseDatetime(value)
  if (typeof fields === 'string') throw syntaxError('datetime', value, fields)
}

/** The same instant as `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, millisecond precision, truncated). */
export function normalizeDatetime(value: string): string {
  const fields = parseDatetime(value)
  if (typeof fields === 'string') throw syntaxError('datetime', value, fields)
  const date = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(fields.year, fields.month - 1, fields.day)
  date.setUTCHours(fields.hour, fields.minute - fields.offset, fields.second, fields.millis)
  return date.toISOString()
}

/** The fields of a valid datetime, or a string saying what is wrong with it. */
function parseDatetime(value: string): DatetimeFields | string {
  const match = DATETIME_RE.exec(value)
  if (match === null) {
    return 'expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)'
  }
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  const hour = Number(match[4])
  const minute = Number(match[5])
  const second = Number(match[6])
  const millis = match[7] === undefined ? 0 : Number(match[7].slice(0, 3).padEnd(3, '0'))
  const sign = match[8]
  if (month < 1 || month > 12) return 'month out of range'
  if (day < 1 || day > daysInMonth(year, month)) return 'day out of range'
  if (hour > 23) return 'hour out of range'
  if (minute > 59) return 'minute out of range'
  // Leap seconds (60) are rejected, as JavaScript dates cannot represent them.
  if (second > 59) return 'second out of range'
  let offset = 0
  if (sign !== undefined) {
    const offsetHours = Number(match[9])
    const offsetMinutes = Number(match[10])
    if (offsetHours > 23 || offsetMinutes > 59) return 'timezone offset out of range'
    offset = (offsetHours * 60 + offsetMinutes) * (sign === '-' ? -1 : 1)
    if (offset === 0 && sign === '-') return 'the "-00:00" offset is not allowed'
  }
  // Only the first and last day of the range can cross it once shifted to UTC.
  const localMinutes = hour * 60 + minute
  if (year === 0 && month === 1 && day === 1 && localMinutes < offset) {
    return 'before year 0000 in UTC'
  }
  if (year === 9999 && month === 12 && day === 31 && localMinutes - offset >= MINUTES_PER_DAY) {
    return 'after year 9999 in UTC'
  }
  return { year, month, day, hour, minute, second, millis, offset }
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
    return leap ? 29 : 28
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}
