/** Record keys: 1-512 chars of `A-Za-z0-9 . - _ : ~`, never `.` or `..`. https://atproto.com/specs/record-key */
import { syntaxError } from './errors.ts'

export const MAX_RECORD_KEY_LENGTH = 512

const RECORD_KEY_RE = /^[a-zA-Z0-9._:~-]{1,512}$/

export function isValidRecordKey(value: string): boolean {
  return RECORD_KEY_RE.test(value) && value !== '.' && value !== '..'
}

export function ensureValidRecordKey(value: string): void {
  if (!isValidRecordKey(value)) throw syntaxError('record key', value, recordKeyProblem(value))
}

function recordKeyProblem(value: string): string {
  if (value.length === 0) return 'must not be empty'
  if (value.length > MAX_RECORD_KEY_LENGTH) {
    return `longer than ${MAX_RECORD_KEY_LENGTH} characters`
  }
  if (value === '.' || value === '..') return '"." and ".." are not allowed'
  return 'only ASCII letters, digits and "._:~-" are allowed'
}
