import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  AtUri,
  ensureValidAtIdentifier,
  ensureValidAtUri,
  ensureValidCidString,
  ensureValidDatetime,
  ensureValidDid,
  ensureValidHandle,
  ensureValidLanguage,
  ensureValidNsid,
  ensureValidRecordKey,
  ensureValidTid,
  ensureValidUri,
  INVALID_HANDLE,
  InvalidSyntaxError,
  isDisallowedHandleTld,
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
  normalizeDatetime,
  normalizeHandle,
  normalizeNsid,
  parseNsid,
} from '../../src/syntax/index.ts'

const FIXTURES = fileURLToPath(new URL('../fixtures/interop/syntax/', import.meta.url))

interface Validator {
  isValid: (value: string) => boolean
  ensure: (value: string) => void
}

const VALIDATORS: Record<string, Validator> = {
  atidentifier: { isValid: isValidAtIdentifier, ensure: ensureValidAtIdentifier },
  aturi: { isValid: isValidAtUri, ensure: ensureValidAtUri },
  cid: { isValid: isValidCidString, ensure: ensureValidCidString },
  datetime: { isValid: isValidDatetime, ensure: ensureValidDatetime },
  did: { isValid: isValidDid, ensure: ensureValidDid },
  handle: { isValid: isValidHandle, ensure: ensureValidHandle },
  language: { isValid: isValidLanguage, ensure: ensureValidLanguage },
  nsid: { isValid: isValidNsid, ensure: ensureValidNsid },
  recordkey: { isValid: isValidRecordKey, ensure: ensureValidRecordKey },
  tid: { isValid: isValidTid, ensure: ensureValidTid },
  uri: { isValid: isValidUri, ensure: ensureValidUri },
}

/** Lines of an interop vector file, read as INDEX.md says: no trimming, `#` lines are comments. */
function readVectors(file: string): string[] {
  return readFileSync(FIXTURES + file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.length > 0 && !line.startsWith('#'))
}

function ensureOutcome(validator: Validator, value: string): 'ok' | 'InvalidSyntaxError' | string {
  try {
    validator.ensure(value)
    return 'ok'
  } catch (err) {
    return err instanceof InvalidSyntaxError ? 'InvalidSyntaxError' : String(err)
  }
}

function expectVerdict(validator: Validator, value: string, valid: boolean): void {
  const shown = JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value)
  expect(validator.isValid(value), `isValid(${shown})`).toBe(valid)
  expect(ensureOutcome(validator, value), `ensure(${shown})`).toBe(
    valid ? 'ok' : 'InvalidSyntaxError',
  )
}

describe('interop syntax vectors', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'))

  it('has a validator for every vector file', () => {
    expect(files.length).toBe(24)
    for (const file of files) {
      expect(file).toMatch(/^[a-z]+_(syntax_valid|syntax_invalid|parse_invalid)\.txt$/)
      expect(VALIDATORS[file.split('_')[0]!], file).toBeDefined()
    }
  })

  for (const file of files) {
    const validator = VALIDATORS[file.split('_')[0]!]
    if (validator === undefined) continue
    const valid = file.endsWith('_syntax_valid.txt')
    it(`${valid ? 'accepts' : 'rejects'} every line of ${file}`, () => {
      const lines = readVectors(file)
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) expectVerdict(validator, line, valid)
    })
  }

  it('rejects the invalid cases hidden by the comment rule', () => {
    expectVerdict(VALIDATORS.recordkey!, '#extra', false)
    expectVerdict(VALIDATORS.aturi!, '#at://did:plc:asdf123', false)
  })

  it('reads the expected number of lines per file', () => {
    expect(readVectors('handle_syntax_valid.txt').length).toBe(71)
    expect(readVectors('handle_syntax_invalid.txt').length).toBe(48)
    expect(readVectors('aturi_syntax_invalid.txt').length).toBe(72)
    expect(readVectors('datetime_parse_invalid.txt').length).toBe(7)
    expect(readVectors('language_parse_invalid.txt').length).toBe(4)
  })
})

describe('error messages', () => {
  it('say what is wrong and quote the value', () => {
    expect(() => ensureValidHandle('john..test')).toThrow(/"john\.\.test".*empty label/)
    expect(() => ensureValidHandle('john.0')).toThrow(/top-level domain/)
    expect(() => ensureValidDid('did:METHOD:val')).toThrow(/method must be lowercase/)
    expect(() => ensureValidNsid('com.example.fooBar.2')).toThrow(/name must start with a letter/)
    expect(() => ensureValidRecordKey('..')).toThrow(/"\." and "\.\." are not allowed/)
    expect(() => ensureValidTid('kjzfcijpj2z2a')).toThrow(/first character/)
    expect(() => ensureValidDatetime('1985-13-12T23:20:50.123Z')).toThrow(/month out of range/)
    expect(() => ensureValidDatetime('0000-01-01T00:00:00+01:00')).toThrow(/before year 0000/)
    expect(() => ensureValidLanguage('en-rozaj-ROZAJ')).toThrow(/repeated variant/)
    expect(() => ensureValidLanguage('en-a-foo-a-bar')).toThrow(/repeated extension singleton/)
    expect(() => ensureValidAtUri('at://did:plc:asdf123/short/stuff')).toThrow(/collection/)
    expect(() => ensureValidCidString('QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR')).toThrow(
      /CIDv0/,
    )
  })

  it('truncate very long values', () => {
    const long = `https://example.com/${'x'.repeat(9000)}`
    try {
      ensureValidUri(long)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidSyntaxError)
      expect((err as Error).message.length).toBeLessThan(200)
      expect((err as Error).message).toMatch(/longer than 8192 bytes/)
    }
  })
})

describe('handle helpers', () => {
  it('normalizes to lowercase', () => {
    expect(normalizeHandle('XX.LCS.MIT.EDU')).toBe('xx.lcs.mit.edu')
  })

  it('flags TLDs that are syntax-valid but never registrable', () => {
    for (const tld of ['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost']) {
      expect(isValidHandle(`laptop.${tld}`)).toBe(true)
      expect(isDisallowedHandleTld(`laptop.${tld}`), tld).toBe(true)
    }
    expect(isDisallowedHandleTld('friend.expyuzz4wqqyqhjn.onion')).toBe(true)
    expect(isDisallowedHandleTld('SRI-NIC.ARPA')).toBe(true)
    expect(isDisallowedHandleTld(INVALID_HANDLE)).toBe(true)
    expect(isDisallowedHandleTld('john.test')).toBe(false)
    expect(isDisallowedHandleTld('alice.bsky.social')).toBe(false)
    expect(isDisallowedHandleTld('local.example.com')).toBe(false)
  })
})

describe('NSID helpers', () => {
  it('splits into authority (DNS order) and name', () => {
    expect(parseNsid('app.bsky.feed.post')).toEqual({ authority: 'feed.bsky.app', name: 'post' })
    expect(parseNsid('Com.Example.fooBar')).toEqual({ authority: 'example.com', name: 'fooBar' })
    expect(() => parseNsid('com.example')).toThrow(InvalidSyntaxError)
  })

  it('normalizes the authority but not the name', () => {
    expect(normalizeNsid('COM.Example.fooBar')).toBe('com.example.fooBar')
  })
})

describe('datetime helpers', () => {
  it('rejects impossible calendar dates and the out-of-range edges', () => {
    expect(isValidDatetime('2024-02-29T00:00:00Z')).toBe(true)
    expect(isValidDatetime('2023-02-29T00:00:00Z')).toBe(false)
    expect(isValidDatetime('1900-02-29T00:00:00Z')).toBe(false)
    expect(isValidDatetime('2000-02-29T00:00:00Z')).toBe(true)
    expect(isValidDatetime('2024-04-31T00:00:00Z')).toBe(false)
    expect(isValidDatetime('0000-01-01T01:00:00+01:00')).toBe(true)
    expect(isValidDatetime('9999-12-31T23:59:59Z')).toBe(true)
    expect(isValidDatetime('9999-12-31T23:00:00-01:00')).toBe(false)
    expect(isValidDatetime('1985-04-12T23:20:50+24:00')).toBe(false)
  })

  it('normalizes to UTC with millisecond precision', () => {
    expect(normalizeDatetime('1985-04-12T23:20:50.123456-07:00')).toBe('1985-04-13T06:20:50.123Z')
    expect(normalizeDatetime('1985-04-12T23:20:50Z')).toBe('1985-04-12T23:20:50.000Z')
    expect(normalizeDatetime('0010-12-31T23:00:00.5+01:45')).toBe('0010-12-31T21:15:00.500Z')
    expect(normalizeDatetime('0000-01-01T01:00:00+01:00')).toBe('0000-01-01T00:00:00.000Z')
  })
})

describe('language helpers', () => {
  it('accepts distinct variants and extensions but not repeated ones', () => {
    expect(isValidLanguage('en-US-x-a-a')).toBe(true)
    expect(isValidLanguage('de-1901-1996')).toBe(true)
    expect(isValidLanguage('de-1901-1901')).toBe(false)
  })
})

describe('AtUri', () => {
  it('parses and prints every valid form', () => {
    const full = AtUri.parse('at://did:plc:asdf123/com.atproto.feed.post/record')
    expect(full.host).toBe('did:plc:asdf123')
    expect(full.collection).toBe('com.atproto.feed.post')
    expect(full.rkey).toBe('record')
    expect(full.toString()).toBe('at://did:plc:asdf123/com.atproto.feed.post/record')

    const collection = AtUri.parse('at://user.bsky.social/app.bsky.feed.post')
    expect(collection.host).toBe('user.bsky.social')
    expect(collection.collection).toBe('app.bsky.feed.post')
    expect(collection.rkey).toBeUndefined()

    const bare = AtUri.parse('at://did:web:localhost%3A1234')
    expect(bare.collection).toBeUndefined()
    expect(bare.rkey).toBeUndefined()
    expect(bare.toString()).toBe('at://did:web:localhost%3A1234')
  })

  it('round-trips parse(make(...).toString())', () => {
    const made = AtUri.make(
      'did:plc:7iza6de2dwap2sbkpav7c6c6',
      'app.bsky.feed.like',
      '3jzfcijpj2z2a',
    )
    const text = made.toString()
    expect(text).toBe('at://did:plc:7iza6de2dwap2sbkpav7c6c6/app.bsky.feed.like/3jzfcijpj2z2a')
    expect(isValidAtUri(text)).toBe(true)
    expect(AtUri.parse(text)).toEqual(made)
    expect(AtUri.make('alice.test').toString()).toBe('at://alice.test')
    for (const line of readVectors('aturi_syntax_valid.txt')) {
      expect(AtUri.parse(line).toString()).toBe(line)
    }
  })

  it('refuses to make or parse invalid URIs', () => {
    expect(() => AtUri.parse('at://did:plc:asdf123/')).toThrow(InvalidSyntaxError)
    expect(() => AtUri.make('not a host')).toThrow(InvalidSyntaxError)
    expect(() => AtUri.make('did:plc:asdf123', 'not-an-nsid')).toThrow(InvalidSyntaxError)
    expect(() => AtUri.make('did:plc:asdf123', 'app.bsky.feed.post', '..')).toThrow(
      InvalidSyntaxError,
    )
    expect(() => AtUri.make('did:plc:asdf123', undefined, 'self')).toThrow(InvalidSyntaxError)
    expect(() => AtUri.make('did:plc:asdf123', 'app.bsky.feed.post/self')).toThrow(
      InvalidSyntaxError,
    )
  })
})
