/**
 * NSIDs: a reversed domain authority plus a name, e.g. `app.bsky.feed.post`.
 * The authority is case-insensitive; the name is case-sensitive. https://atproto.com/specs/nsid
 *
 * @NOTE The spec also caps the authority at 253 characters, but an interop "valid" vector
 * has a 283-character authority, so only the 317 total and 63 per segment are enforced.
 */
import { syntaxError } from './errors.ts'

export const MAX_NSID_LENGTH = 317

// First segment starts with a letter; later authority segments may start with a digit;
// the name is letters and digits only and starts with a letter.
const NSID_RE =
  /^[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\.[a-zA-Z][a-zA-Z0-9]{0,62}$/

export interface ParsedNsid {
  /** The domain authority in DNS order, lowercased: `app.bsky.feed.post` gives `feed.bsky.app`. */
  authority: string
  name: string
}

export function isValidNsid(value: string): boolean {
  return value.length <= MAX_NSID_LENGTH && NSID_RE.test(value)
}

export function ensureValidNsid(value: string): void {
  if (!isValidNsid(value)) throw syntaxError('NSID', value, nsidProblem(value))
}

export function parseNsid(nsid: string): ParsedNsid {
  ensureValidNsid(nsid)
  const segments = nsid.split('.')
  const name = segments.pop()!
  return { authority: segments.reverse().join('.').toLowerCase(), name }
}

/** Lowercases the authority and keeps the name's case. */
export function normalizeNsid(nsid: string): string {
  ensureValidNsid(nsid)
  const dot = nsid.lastIndexOf('.')
  return nsid.slice(0, dot).toLowerCase() + nsid.slice(dot)
}

function nsidProblem(value: string): string {
  if (value.length > MAX_NSID_LENGTH) return `longer than ${MAX_NSID_LENGTH} characters`
  if (/[^a-zA-Z0-9.-]/.test(value)) return 'only ASCII letters, digits, "-" and "." are allowed'
  const segments = value.split('.')
  if (segments.length < 3) return 'needs at least three dot-separated segments'
  const name = segments.pop()!
  for (const segment of segments) {
    if (segment.length === 0) return 'empty segment (leading, trailing or doubled ".")'
    if (segment.length > 63) return 'a segment is longer than 63 characters'
    if (segment.startsWith('-') || segment.endsWith('-')) return 'a segment starts or ends with "-"'
  }
  if (/^[0-9]/.test(segments[0]!)) return 'the first segment must start with a letter'
  if (name.length === 0) return 'empty name segment'
  if (name.length > 63) return 'the name is longer than 63 characters'
  return 'the name must start with a letter and contain only letters and digits'
}
