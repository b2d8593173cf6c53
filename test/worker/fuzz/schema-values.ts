/**
 * Values for the fuzz cases, read off the Lexicon schemas: a valid value of a schema (the base
 * that one mutation at a time makes invalid), values of the wrong JSON type, and malformed
 * identifiers for each string format (every one checked against our own syntax validators, so
 * a case never sends a value that is valid by accident).
 */
import type {
  LexFieldType,
  LexObject,
  LexStringFormat,
  LexUserType,
  LexXrpcParameters,
} from '../../../src/lexicon/index.ts'
import {
  isValidAtIdentifier,
  isValidAtUri,
  isValidCidString,
  isValidDatetime,
  isValidDid,
  isValidHandle,
  isValidLanguage,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  isValidUri,
} from '../../../src/syntax/index.ts'
import type { Prng } from './prng.ts'

/** Who the valid values name: the fuzzing account. */
export interface Identity {
  did: string
  handle: string
}

export type Resolve = (ref: string) => LexUserType | undefined

export const SAMPLE_CID = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
export const SAMPLE_TID = '3jzfcijpj2z2a'

export function formatExample(format: LexStringFormat, who: Identity): string {
  switch (format) {
    case 'did':
      return who.did
    case 'handle':
      return who.handle
    case 'at-identifier':
      return who.did
    case 'nsid':
      return 'app.bsky.feed.post'
    case 'record-key':
      return 'self'
    case 'tid':
      return SAMPLE_TID
    case 'datetime':
      return '2024-01-01T00:00:00.000Z'
    case 'cid':
      return SAMPLE_CID
    case 'at-uri':
      return `at://${who.did}/app.bsky.feed.post/${SAMPLE_TID}`
    case 'uri':
      return 'https://example.com/fuzz'
    case 'language':
      return 'en'
  }
}

const VALIDATORS: Record<LexStringFormat, (value: string) => boolean> = {
  did: isValidDid,
  handle: isValidHandle,
  'at-identifier': isValidAtIdentifier,
  nsid: isValidNsid,
  'record-key': isValidRecordKey,
  tid: isValidTid,
  datetime: isValidDatetime,
  cid: isValidCidString,
  'at-uri': isValidAtUri,
  uri: isValidUri,
  language: isValidLanguage,
}

/** Hand-picked malformed values per format: the edge cases a random mutation rarely hits. */
const MALFORMED: Record<LexStringFormat, string[]> = {
  did: [
    '',
    'did',
    'did:',
    'did:plc',
    'DID:plc:abc',
    'did:PLC:abc',
    'did:plc:abc/def',
    'did:plc:abc#x',
    'did:web:%zz',
    'did:plc:abc:',
    'did:plc:äbc',
    'did:plc:\u0000',
  ],
  handle: [
    '',
    'a',
    '-a.com',
    'a..b',
    'a.b.',
    'a_b.com',
    'a.123',
    'ünï.com',
    'a.b/c',
    `${'x'.repeat(64)}.com`,
    '@a.com',
  ],
  'at-identifier': ['', 'did:', 'a', 'a..b', 'did:plc', '@did:plc:abc', 'a b.com'],
  nsid: [
    '',
    'app',
    'app.bsky',
    'app.bsky.feed.',
    '.app.bsky.x',
    'app.bsky.1post',
    'app..bsky.x',
    'app.bsky.po-st',
    'app.bsky.feed.post#main',
    'app.bsky.*',
  ],
  'record-key': ['', '.', '..', 'a/b', 'a b', '#', '?', 'ä', 'a\u0000'],
  tid: [
    '',
    'abc',
    '3jzfcijpj2z2',
    '3JZFCIJPJ2Z2A',
    '1111111111111',
    'zzzzzzzzzzzzz',
    '3jzfcijpj2z2a0',
  ],
  datetime: [
    '',
    '2024',
    '2024-01-01',
    '2024-13-01T00:00:00Z',
    '2024-01-01T00:00:00',
    'yesterday',
    '2024-01-01T25:00:00Z',
    '+002024-01-01T00:00:00Z',
    '2024-01-01T00:00:00.000+2400',
  ],
  cid: [
    '',
    'bafy',
    'Qm',
    'zzzz',
    `bafyrei${'!'.repeat(40)}`,
    `B${SAMPLE_CID.slice(1)}`,
    `${SAMPLE_CID}=`,
  ],
  'at-uri': [
    '',
    'at://',
    'at:///x',
    'http://example.com',
    'at://did:plc:abc/../x',
    'at://a b/c',
    'at://did:plc:abc/app.bsky.feed.post/a b',
    'at://did:plc:abc#frag',
  ],
  uri: ['', 'not a uri', ':', '://x', 'http//x'],
  language: ['', '123', 'e', 'en_US', '-en', 'en--x'],
}

const UNKNOWN_DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'

/**
 * A valid value of each format that names nothing on this server or the local PLC directory
 * (handles under `.test` are never looked up on the network).
 */
const UNKNOWN: Record<LexStringFormat, string> = {
  did: UNKNOWN_DID,
  handle: 'nobody-fuzz.test',
  'at-identifier': UNKNOWN_DID,
  nsid: 'com.example.fuzz.unknown',
  'record-key': 'nonexistent',
  tid: '3zzzzzzzzzzzz',
  datetime: '9999-12-31T23:59:59.999Z',
  cid: 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  'at-uri': `at://${UNKNOWN_DID}/com.example.fuzz.unknown/nonexistent`,
  uri: 'https://unknown.invalid/fuzz',
  language: 'tlh',
}

/** The value of UNKNOWN for a format, checked: a malformed one would test something else. */
export function unknownIdentifier(format: LexStringFormat): string {
  const value = UNKNOWN[format]
  if (!VALIDATORS[format](value)) throw new Error(`UNKNOWN.${format} is not valid: ${value}`)
  return value
}

/** Malformed values of a format: the hand-picked ones, then random mutations of a valid one. */
export function malformedIdentifiers(
  format: LexStringFormat,
  who: Identity,
  prng: Prng,
  count: number,
): string[] {
  const isValid = VALIDATORS[format]
  const out = prng.sample(MALFORMED[format], count).filter((value) => !isValid(value))
  const valid = formatExample(format, who)
  for (let tries = 0; out.length < count && tries < 200; tries++) {
    const value = mutateString(valid, prng)
    if (!isValid(value) && !out.includes(value)) out.push(value)
  }
  return out
}

const ODD_CHARS = [
  ' ',
  '/',
  '#',
  '?',
  '%',
  '\\',
  ':',
  '.',
  '..',
  '\u0000',
  '\n',
  'é',
  '😀',
  '\u202e',
  '"',
  "'",
  '<',
]

function mutateString(value: string, prng: Prng): string {
  const at = prng.int(value.length + 1)
  switch (prng.int(4)) {
    case 0:
      return value.slice(0, at) + prng.pick(ODD_CHARS) + value.slice(at)
    case 1:
      return value.slice(0, at)
    case 2:
      return value.slice(0, at) + prng.ascii(1 + prng.int(3)) + value.slice(at + 1)
    default:
      return value.toUpperCase().slice(0, at) + value.slice(at)
  }
}

/** Is this string in the wire form something a format-less schema would refuse? */
export function formatOf(schema: LexFieldType | LexUserType | undefined): LexStringFormat | null {
  return schema?.type === 'string' && schema.format ? schema.format : null
}

/** A valid JSON value of the schema, with only the required properties of objects. */
export function validValue(
  schema: LexFieldType | LexUserType,
  resolve: Resolve,
  who: Identity,
  depth = 0,
): unknown {
  if (depth > 12) return {}
  switch (schema.type) {
    case 'boolean':
      return schema.const ?? schema.default ?? false
    case 'integer':
      return schema.const ?? schema.enum?.[0] ?? schema.default ?? Math.max(schema.minimum ?? 1, 1)
    case 'string': {
      const fixed = schema.const ?? schema.enum?.[0] ?? schema.default ?? schema.knownValues?.[0]
      if (fixed !== undefined) return fixed
      if (schema.format) return formatExample(schema.format, who)
      return 'fuzz'.padEnd(Math.max(schema.minLength ?? 0, schema.minGraphemes ?? 0, 4), 'z')
    }
    case 'bytes':
      return { $bytes: 'AAAA' }
    case 'cid-link':
      return { $link: SAMPLE_CID }
    case 'blob':
      return { $type: 'blob', ref: { $link: SAMPLE_CID }, mimeType: 'image/png', size: 1 }
    case 'array': {
      const count = schema.minLength ?? 0
      return Array.from({ length: count }, () => validValue(schema.items, resolve, who, depth + 1))
    }
    case 'object':
      return validObject(schema, resolve, who, depth)
    case 'ref': {
      const target = resolve(schema.ref)
      return target ? validValue(target, resolve, who, depth + 1) : {}
    }
    case 'union': {
      const ref = schema.refs[0]
      const target = ref ? resolve(ref) : undefined
      if (target?.type !== 'object') return {}
      return { $type: ref, ...validObject(target, resolve, who, depth + 1) }
    }
    case 'unknown':
      return {}
    case 'token':
      return 'token'
    case 'record':
      return validObject(schema.record, resolve, who, depth)
    default:
      return {}
  }
}

function validObject(
  schema: LexObject,
  resolve: Resolve,
  who: Identity,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of schema.required ?? []) {
    const prop = schema.properties[key]
    if (prop) out[key] = validValue(prop, resolve, who, depth + 1)
  }
  return out
}

/** Query parameters that pass the schema, as strings (only the required ones). */
export function validParams(
  params: LexXrpcParameters | undefined,
  who: Identity,
): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const key of params?.required ?? []) {
    const prop = params!.properties[key]!
    const item = prop.type === 'array' ? prop.items : prop
    out[key] = [String(validValue(item, () => undefined, who))]
  }
  return out
}

const JSON_KINDS: Array<[string, unknown]> = [
  ['null', null],
  ['boolean', true],
  ['integer', 42],
  ['float', 1.5],
  ['negative', -1],
  ['string', 'fuzz'],
  ['empty-string', ''],
  ['array', []],
  ['array-of-numbers', [1, 2, 3]],
  ['object', {}],
  ['object-with-junk', { $type: 42, x: [null] }],
]

/** JSON values of another kind than the schema asks for (null only where it is not allowed). */
export function wrongTypeValues(
  schema: LexFieldType | LexUserType,
  resolve: Resolve,
  nullable: boolean,
): Array<[string, unknown]> {
  const target = schema.type === 'ref' ? (resolve(schema.ref) ?? schema) : schema
  const accepts = (value: unknown): boolean => {
    if (value === null) return nullable
    switch (target.type) {
      case 'boolean':
        return typeof value === 'boolean'
      case 'integer':
        return Number.isInteger(value)
      case 'string':
        return typeof value === 'string'
      case 'array':
        return Array.isArray(value) && value.length === 0
      case 'object':
      case 'union':
      case 'unknown':
      case 'record':
        // Empty objects or junk ones may still fail deeper, but they are of the right kind.
        return typeof value === 'object' && !Array.isArray(value)
      default:
        // bytes, cid-link, blob: objects of a particular shape; a plain {} is already wrong.
        return false
    }
  }
  return JSON_KINDS.filter(([, value]) => !accepts(value))
}

/** Integer and boolean query parameters given something else (string ones, repeated). */
export const WRONG_PARAM_VALUES: Record<'integer' | 'boolean', string[]> = {
  integer: ['abc', '1.5', '', '1e3', '0x10', ' 1', '１', '99999999999999999999', 'NaN', '-'],
  boolean: ['yes', '1', 'TRUE', '', 'null', 'tru'],
}
