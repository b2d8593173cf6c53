/** An at-identifier is either a handle or a DID. https://atproto.com/specs/lexicon */
import { isValidDid } from './did.ts'
import { syntaxError } from './errors.ts'
import { isValidHandle } from './handle.ts'

export function isValidAtIdentifier(value: string): boolean {
  return value.startsWith('did:') ? isValidDid(value) : isValidHandle(value)
}

export function ensureValidAtIdentifier(value: string): void {
  if (!isValidAtIdentifier(value)) {
    const reason = value.startsWith('did:') ? 'not a valid DID' : 'neither a valid handle nor a DID'
    throw syntaxError('at-identifier', value, reason)
  }
}
