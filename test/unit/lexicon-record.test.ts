import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { jsonToIpld } from '../../src/data/json.ts'
import {
  getDefaultLexicons,
  LexiconDefNotFoundError,
  Lexicons,
  LexiconValidationError,
} from '../../src/lexicon/index.ts'

const FIXTURES = join(import.meta.dirname, '../fixtures/interop/lexicon')
const CATALOG = join(FIXTURES, 'catalog')
const NSID = 'example.lexicon.record'

type RecordVector = { name: string; rkey: string; data: Record<string, unknown> }

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

const catalog = new Lexicons(readdirSync(CATALOG).map((f) => readJson(join(CATALOG, f))))
const validRecords = readJson<RecordVector[]>(join(FIXTURES, 'record-data-valid.json'))
const invalidRecords = readJson<RecordVector[]>(join(FIXTURES, 'record-data-invalid.json'))

/** Validates a vector (JSON form) against the catalog and returns the error message, if any. */
function errorOf(data: unknown, nsid = NSID, lexicons = catalog): string | undefined {
  const result = lexicons.safeValidateRecord(nsid, jsonToIpld(data))
  return result.success ? undefined : result.error.message
}

describe('record-data interop vectors against example.lexicon.record', () => {
  it('has the expected vectors', () => {
    expect(validRecords).toHaveLength(3)
    expect(invalidRecords).toHaveLength(50)
  })

  it.each(validRecords.map((v) => [v.name, v]))('accepts %s', (_name, vector) => {
    const value = jsonToIpld(vector.data)
    expect(catalog.assertValidRecord(NSID, value)).toBeDefined()
    expect(() => catalog.assertValidRecordKey(NSID, vector.rkey)).not.toThrow()
  })

  it.each(invalidRecords.map((v, i) => [`${i} ${v.name}`, v]))('rejects %s', (_name, vector) => {
    const value = jsonToIpld(vector.data)
    expect(() => catalog.assertValidRecord(NSID, value)).toThrow(LexiconValidationError)
  })

  it('rejects the "unknown wrong type" vectors for the unknown field itself', () => {
    // These vectors also lack the required "integer", which alone would reject them.
    const vectors = invalidRecords.filter((v) => v.name.startsWith('unknown wrong type'))
    expect(vectors).toHaveLength(3)
    for (const vector of vectors) {
      expect(errorOf({ ...vector.data, integer: 1 })).toMatch(/^Record\/unknown must be an object/)
    }
  })

  it('applies defaults without mutating the input', () => {
    const input = jsonToIpld({ $type: NSID, integer: 1 }) as Record<string, unknown>
    const out = catalog.assertValidRecord<Record<string, unknown>>(NSID, input)
    expect(out.defaultInteger).toBe(42)
    expect(input.defaultInteger).toBeUndefined()
    const unchanged = jsonToIpld({ $type: NSID, integer: 1, defaultInteger: 7 })
    expect(catalog.assertValidRecord(NSID, unchanged)).toBe(unchanged)
  })

  it('accepts a legacy {cid, mimeType} blob', () => {
    const cid = 'bafkreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'
    expect(errorOf({ $type: NSID, integer: 1, blob: { cid, mimeType: 'image/png' } })).toBe(
      undefined,
    )
    expect(errorOf({ $type: NSID, integer: 1, blob: { cid: 'nope', mimeType: 'x/y' } })).toMatch(
      /^Record\/blob must be a blob whose cid is a valid CID/,
    )
  })

  it('rejects unconverted JSON-form links and bytes in unknown fields', () => {
    const link = { $link: 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq' }
    const result = catalog.safeValidateRecord(NSID, { $type: NSID, integer: 1, unknown: link })
    expect(!result.success && result.error.message).toBe(
      'Record/unknown must be an object, not a link or bytes',
    )
  })

  it('checks the record $type', () => {
    expect(errorOf({ integer: 1 })).toBe('Record must have a $type string')
    expect(errorOf({ $type: 'example.lexicon.other', integer: 1 })).toBe(
      'Record $type must be example.lexicon.record (got example.lexicon.other)',
    )
    expect(errorOf({ $type: NSID, integer: 1 })).toBeUndefined()
  })
})

describe('error messages name the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{}, 'Record must have the property "integer"'],
    [{ integer: 'green' }, 'Record/integer must be an integer'],
    [{ integer: 1, string: null }, 'Record/string must be a string'],
    [{ integer: 1, object: { a: 'x' } }, 'Record/object/a must be an integer'],
    [{ integer: 1, array: [1, true] }, 'Record/array/1 must be an integer'],
    [{ integer: 1, formats: { did: '123' } }, 'Record/formats/did must be a valid DID'],
    [{ integer: 1, rangeInteger: 9000 }, 'Record/rangeInteger can not be greater than 20'],
    [{ integer: 1, enumString: 'x' }, 'Record/enumString must be one of (fish|tree|rock)'],
    [{ integer: 1, lenString: '.' }, 'Record/lenString must not be shorter than 10 bytes (UTF-8)'],
    [
      { integer: 1, graphemeString: 'abcdefg-abcdefg-abcdefg' },
      'Record/graphemeString must not be longer than 20 graphemes',
    ],
    [
      { integer: 1, union: { a: 1 } },
      'Record/union must be an object which includes the "$type" property',
    ],
    [
      { integer: 1, union: { $type: 'example.lexicon.record#demoObject', a: 'x' } },
      'Record/union/a must be an integer',
    ],
    [{ integer: 1, unknown: false }, 'Record/unknown must be an object'],
  ]
  it.each(cases)('%j', (fields, expected) => {
    expect(errorOf({ $type: NSID, ...fields })).toBe(expected)
  })

  it('checks blob accept and maxSize against the blob fields', () => {
    const ref = { $link: 'bafkreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq' }
    expect(
      errorOf({
        $type: NSID,
        integer: 1,
        sizeBlob: { $type: 'blob', ref, mimeType: 'a/b', size: 21 },
      }),
    ).toBe('Record/sizeBlob is too big (21 bytes; the maximum is 20)')
    expect(
      errorOf({
        $type: NSID,
        integer: 1,
        acceptBlob: { $type: 'blob', ref, mimeType: 'text/plain', size: 1 },
      }),
    ).toBe('Record/acceptBlob has a MIME type (text/plain) not accepted here: image/*')
    expect(
      errorOf({
        $type: NSID,
        integer: 1,
        acceptBlob: { $type: 'blob', ref, mimeType: 'IMAGE/PNG', size: 1 },
      }),
    ).toBeUndefined()
  })

  it('throws LexiconDefNotFoundError for an unknown collection, from both variants', () => {
    expect(() => catalog.assertValidRecord('com.example.nope', {})).toThrow(LexiconDefNotFoundError)
    expect(() => catalog.safeValidateRecord('com.example.nope', {})).toThrow(
      LexiconDefNotFoundError,
    )
    expect(() => catalog.assertValidRecord('example.lexicon.query', {})).toThrow(
      /is a query, not a record/,
    )
  })
})

describe('real app.bsky.feed.post records', () => {
  const lexicons = getDefaultLexicons()
  const blobCid = 'bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4'
  const post = {
    $type: 'app.bsky.feed.post',
    text: 'hello @alice.example.com see https://example.com 🦋',
    facets: [
      {
        index: { byteStart: 6, byteEnd: 24 },
        features: [
          { $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' },
        ],
      },
      {
        index: { byteStart: 29, byteEnd: 48 },
        features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }],
      },
    ],
    embed: {
      $type: 'app.bsky.embed.images',
      images: [
        {
          alt: 'a butterfly',
          image: { $type: 'blob', ref: { $link: blobCid }, mimeType: 'image/jpeg', size: 123456 },
          aspectRatio: { width: 1000, height: 750 },
        },
      ],
    },
    langs: ['en', 'pt-BR'],
    createdAt: '2024-11-24T14:02:03.123Z',
  }

  it('accepts a post with text, facets, an images embed, langs and createdAt', () => {
    const value = jsonToIpld(post) as { embed: { images: { image: { ref: unknown } }[] } }
    expect(CID.asCID(value.embed.images[0]!.image.ref)).not.toBeNull()
    expect(lexicons.assertValidRecord('app.bsky.feed.post', value)).toBe(value)
  })

  it('rejects text over 300 graphemes, even within 3000 bytes', () => {
    const ok = { ...post, text: '🏳️‍🌈'.repeat(150) }
    expect(errorOf(ok, 'app.bsky.feed.post', lexicons)).toBeUndefined()
    const tooLong = { ...post, facets: undefined, text: 'a'.repeat(301) }
    expect(errorOf(tooLong, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/text must not be longer than 300 graphemes',
    )
  })

  it('counts maxLength in UTF-8 bytes', () => {
    // 1000 three-byte characters = 3000 bytes (ok), one more is 3003 bytes.
    expect(errorOf({ ...post, text: '€'.repeat(100) }, 'app.bsky.feed.post', lexicons)).toBe(
      undefined,
    )
    const tags = ['€'.repeat(214)]
    expect(errorOf({ ...post, tags }, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/tags/0 must not be longer than 640 bytes (UTF-8)',
    )
  })

  it('names createdAt when it is missing', () => {
    const { createdAt: _, ...missing } = post
    const error = errorOf(missing, 'app.bsky.feed.post', lexicons)
    expect(error).toBe('Record must have the property "createdAt"')
  })

  it('names the nested path of a bad field', () => {
    const bad = structuredClone(post)
    ;(bad.embed.images[0] as Record<string, unknown>).alt = 42
    expect(errorOf(bad, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/embed/images/0/alt must be a string',
    )
    const badBlob = structuredClone(post)
    badBlob.embed.images[0]!.image.mimeType = 'text/html'
    expect(errorOf(badBlob, 'app.bsky.feed.post', lexicons)).toMatch(
      /^Record\/embed\/images\/0\/image has a MIME type \(text\/html\) not accepted/,
    )
    expect(errorOf({ ...post, langs: ['en', 'not a lang'] }, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/langs/1 must be a valid language tag (BCP 47)',
    )
    expect(errorOf({ ...post, createdAt: '2024-11-24' }, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/createdAt must be a valid datetime (RFC 3339 with timezone)',
    )
  })

  it('accepts unknown embed types (open union) but validates known ones', () => {
    const custom = { ...post, embed: { $type: 'com.example.embed', anything: 1 } }
    expect(errorOf(custom, 'app.bsky.feed.post', lexicons)).toBeUndefined()
    const badKnown = { ...post, embed: { $type: 'app.bsky.embed.images' } }
    expect(errorOf(badKnown, 'app.bsky.feed.post', lexicons)).toBe(
      'Record/embed must have the property "images"',
    )
  })

  it('checks record keys by the record key type', () => {
    expect(() => lexicons.assertValidRecordKey('app.bsky.feed.post', '3kznmn7xqxl22')).not.toThrow()
    expect(() => lexicons.assertValidRecordKey('app.bsky.feed.post', 'self')).toThrow(
      'Record key "self" must be a TID for app.bsky.feed.post',
    )
    expect(() => lexicons.assertValidRecordKey('app.bsky.actor.profile', 'self')).not.toThrow()
    expect(() => lexicons.assertValidRecordKey('app.bsky.actor.profile', 'other')).toThrow(
      LexiconValidationError,
    )
    expect(() =>
      lexicons.assertValidRecordKey('app.bsky.feed.generator', 'any-key.~:_'),
    ).not.toThrow()
    expect(() => lexicons.assertValidRecordKey('app.bsky.feed.generator', '..')).toThrow(
      LexiconValidationError,
    )
    expect(() =>
      lexicons.assertValidRecordKey('com.atproto.lexicon.schema', 'app.bsky.feed.post'),
    ).not.toThrow()
    expect(() => lexicons.assertValidRecordKey('com.atproto.lexicon.schema', 'post')).toThrow(
      'Record key "post" must be an NSID for com.atproto.lexicon.schema',
    )
    expect(() => catalog.assertValidRecordKey(NSID, 'demo')).not.toThrow()
    expect(() => catalog.assertValidRecordKey(NSID, 'other')).toThrow('Record key must be "demo"')
  })
})
