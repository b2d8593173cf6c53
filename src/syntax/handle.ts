/**
 * Handles: DNS hostnames used as account names. Case-insensitive, stored lowercase.
 * https://atproto.com/specs/handle
 */
import { syntaxError } from './errors.ts'

export const INVALID_HANDLE = 'handle.invalid'
export const MAX_HANDLE_LENGTH = 253

// Labels of 1-63 chars, no leading/trailing hyphen; at least two labels; TLD starts with a letter.
const HANDLE_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/

// Syntax-valid, but the spec says these must never resolve or be registered.
const DISALLOWED_TLDS = new Set([
  'alt',
  'arpa',
  'example',
  'internal',
  'invalid',
  'local',
  'localhost',
  'onion',
])

export function isValidHandle(value: string): boolean {
  return value.length <= MAX_HANDLE_LENGTH && HANDLE_RE.test(value)
}

export function ensureValidHandle(value: string): void {
  if (!isValidHandle(value)) throw syntaxError('handle', value, handleProblem(value))
}

export function normalizeHandle(handle: string): string {
  return handle.toLowerCase()
}

/** True for handles under TLDs that are syntactically fine but never registrable. */
export function isDisallowedHandleTld(handle: string): boolean {
  const tld = handle.slice(handle.lastIndexOf('.') + 1).toLowerCase()
  return DISALLOWED_TLDS.has(tld)
}

function handleProblem(value: string): string {
  if (value.length > MAX_HANDLE_LENGTH) return `longer than ${MAX_HANDLE_LENGTH} characters`
  if (/[^a-zA-Z0-9.-]/.test(value)) return 'only ASCII letters, digits, "-" and "." are allowed'
  const labels = value.split('.')
  if (labels.length < 2) return 'needs at least two dot-separated labels'
  for (const label of labels) {
    if (label.length === 0) return 'empty label (leading, trailing or doubled ".")'
    if (label.length > 63) return 'a label is longer than 63 characters'
    if (label.startsWith('-') || label.endsWith('-')) return 'a label starts or ends with "-"'
  }
  return 'the top-level domain must start with a letter'
}
