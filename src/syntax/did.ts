/**
 * DIDs, checked with the generic atproto DID syntax (any method, not only plc/web).
 * https://atproto.com/specs/did
 */
import { syntaxError } from './errors.ts'

export const MAX_DID_LENGTH = 2048

const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/

export function isValidDid(value: string): boolean {
  return value.length <= MAX_DID_LENGTH && DID_RE.test(value)
}

export function ensureValidDid(value: string): void {
  if (!isValidDid(value)) throw syntaxError('DID', value, didProblem(value))
}

function didProblem(value: string): string {
  if (value.length > MAX_DID_LENGTH) return `longer than ${MAX_DID_LENGTH} characters`
  if (!value.startsWith('did:')) return 'must start with "did:"'
  const methodEnd = value.indexOf(':', 4)
  if (methodEnd < 0) return 'missing ":" after the method'
  if (!/^[a-z]+$/.test(value.slice(4, methodEnd))) return 'the method must be lowercase letters'
  const id = value.slice(methodEnd + 1)
  if (id.length === 0) return 'empty method-specific identifier'
  if (/[^a-zA-Z0-9._:%-]/.test(id)) return 'only letters, digits and "._:%-" are allowed'
  return 'must not end with ":" or "%"'
}
