/**
 * AT-URIs in the restricted form lexicons use: `at://AUTHORITY[/COLLECTION[/RKEY]]`,
 * with no query, fragment, trailing slash or percent-encoding. https://atproto.com/specs/at-uri-scheme
 */
import { isValidAtIdentifier } from './at-identifier.ts'
import { syntaxError } from './errors.ts'
import { isValidNsid } from './nsid.ts'
import { isValidRecordKey } from './record-key.ts'

export const MAX_AT_URI_LENGTH = 8192

const PREFIX = 'at://'
const tooLong = `longer than ${MAX_AT_URI_LENGTH} characters`

interface AtUriParts {
  host: string
  collection: string | undefined
  rkey: string | undefined
}

export function isValidAtUri(value: string): boolean {
  return typeof splitAtUri(value) !== 'string'
}

export function ensureValidAtUri(value: string): void {
  const parts = splitAtUri(value)
  if (typeof parts === 'string') throw syntaxError('AT-URI', value, parts)
}

export class AtUri {
  readonly host: string
  readonly collection: string | undefined
  readonly rkey: string | undefined

  /** Throws InvalidSyntaxError unless the parts form a valid AT-URI. */
  constructor(host: string, collection?: string, rkey?: string) {
    const uri = formatAtUri(host, collection, rkey)
    const problem = uri.length > MAX_AT_URI_LENGTH ? tooLong : partsProblem(host, collection, rkey)
    if (problem !== undefined) throw syntaxError('AT-URI', uri, problem)
    this.host = host
    this.collection = collection
    this.rkey = rkey
  }

  static parse(value: string): AtUri {
    const parts = splitAtUri(value)
    if (typeof parts === 'string') throw syntaxError('AT-URI', value, parts)
    return new AtUri(parts.host, parts.collection, parts.rkey)
  }

  static make(host: string, collection?: string, rkey?: string): AtUri {
    return new AtUri(host, collection, rkey)
  }

  toString(): string {
    return formatAtUri(this.host, this.collection, this.rkey)
  }
}

function formatAtUri(host: string, collection?: string, rkey?: string): string {
  let uri = PREFIX + host
  if (collection !== undefined) uri += `/${collection}`
  if (rkey !== undefined) uri += `/${rkey}`
  return uri
}

/** The parts of a valid AT-URI, or a string saying what is wrong with it. */
function splitAtUri(value: string): AtUriParts | string {
  if (value.length > MAX_AT_URI_LENGTH) return tooLong
  if (!value.startsWith(PREFIX)) return 'must start with "at://"'
  const segments = value.slice(PREFIX.length).split('/')
  if (segments.length > 3) return 'at most an authority, a collection and a record key are allowed'
  const [host, collection, rkey] = segments as [string, string | undefined, string | undefined]
  return partsProblem(host, collection, rkey) ?? { host, collection, rkey }
}

function partsProblem(
  host: string,
  collection: string | undefined,
  rkey: string | undefined,
): string | undefined {
  if (!isValidAtIdentifier(host)) return 'the authority is not a valid handle or DID'
  if (collection !== undefined && !isValidNsid(collection)) {
    return collection === '' ? 'empty path segment' : 'the collection is not a valid NSID'
  }
  if (rkey !== undefined) {
    if (collection === undefined) return 'a record key needs a collection'
    if (!isValidRecordKey(rkey)) {
      return rkey === '' ? 'empty path segment' : 'the record key is not valid'
    }
  }
  return undefined
}
