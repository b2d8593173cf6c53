import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type BlobRef,
  base64Decode,
  base64Encode,
  base64UrlDecode,
  base64UrlEncode,
  bytesEqual,
  CID,
  cborEquals,
  cidForCborBytes,
  cidForRawBytes,
  DataModelError,
  decodeCbor,
  encodeCbor,
  ensureDataModelValue,
  findBlobRefs,
  ipldToJson,
  isBlobRef,
  jsonToIpld,
  parseLegacyBlobRef,
  validateDataModel,
} from '../../src/data/index.ts'

const FIXTURES = new URL('../fixtures/interop/data-model/', import.meta.url)

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T
}

const roundTrips = load<{ json: unknown; cbor_base64: string; cid: string }[]>(
  'data-model-fixtures.json',
)
const valid = load<{ note: string; json: unknown }[]>('data-model-valid.json')
const invalid = load<{ note: string; json: unknown }[]>('data-model-invalid.json')

const BLOB_CID = 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity'
const DATA_CID = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a'

describe('interop data-model-fixtures.json', () => {
  expect(roundTrips.length).toBe(3)
  roundTrips.forEach((fixture, i) => {
    it(`fixture ${i}: json -> cbor bytes and CID, and back`, async () => {
      validateDataModel(fixture.json)
      const ipld = jsonToIpld(fixture.json)
      const bytes = encodeCbor(ipld)
      expect(base64Encode(bytes)).toBe(fixture.cbor_base64)
      expect((await cidForCborBytes(bytes)).toString()).toBe(fixture.cid)

      const decoded = decodeCbor(base64Decode(fixture.cbor_base64))
      ensureDataModelValue(decoded)
      expect(ipldToJson(decoded)).toEqual(fixture.json)
      expect(cborEquals(decoded, ipld)).toBe(true)
    })
  })
})

describe('interop data-model-valid.json', () => {
  expect(valid.length).toBe(5)
  for (const { note, json } of valid) {
    it(`accepts: ${note}`, () => {
      expect(() => validateDataModel(json)).not.toThrow()
      const ipld = jsonToIpld(json)
      expect(() => ensureDataModelValue(ipld)).not.toThrow()
      expect(decodeCbor(encodeCbor(ipld))).toEqual(ipld)
    })
  }
})

describe('interop data-model-invalid.json', () => {
  expect(invalid.length).toBe(12)
  const expectedReason: Record<string, RegExp> = {
    'top-level not an object': /top level must be an object/,
    float: /\$\.rcrd\.a: floats are not allowed/,
    'record with $type null': /\$\.rcrd: \$type must be a non-empty string \(got null\)/,
    'record with $type wrong type': /\$\.rcrd: \$type must be a non-empty string \(got 123\)/,
    'record with empty $type string': /\$\.rcrd: \$type must be a non-empty string/,
    'blob with string size': /\$\.blb: blob size must be a non-negative integer \(got "10000"\)/,
    'blob with missing key': /\$\.blb: blob ref must be a link/,
    'bytes with wrong field type': /\$\.lnk: \$bytes must be a string/,
    'bytes with extra fields': /\$\.lnk: \$bytes object must have no other keys/,
    'link with wrong field type': /\$\.lnk: \$link must be a string/,
    'link with bogus CID': /\$\.lnk: \$link is not a valid CID/,
    'link with extra fields': /\$\.lnk: \$link object must have no other keys/,
  }
  for (const { note, json } of invalid) {
    it(`rejects: ${note}`, () => {
      const reason = expectedReason[note]
      expect(reason, `no expectation for "${note}"`).toBeDefined()
      expect(() => validateDataModel(json)).toThrow(DataModelError)
      expect(() => validateDataModel(json)).toThrow(reason!)
    })
  }
})

describe('validateDataModel limits and extra rules', () => {
  function nested(levels: number): Record<string, unknown> {
    let value: Record<string, unknown> = { leaf: 1 }
    for (let i = 1; i < levels; i++) value = { n: value }
    return value
  }

  it('allows 32 levels of nesting and rejects 33', () => {
    expect(() => validateDataModel(nested(32))).not.toThrow()
    expect(() => validateDataModel(nested(33))).toThrow(/nested deeper than 32 levels/)
  })

  it('does not count $link and $bytes objects as nesting', () => {
    let value: Record<string, unknown> = { b: { $bytes: 'AAE' }, l: { $link: DATA_CID } }
    for (let i = 1; i < 32; i++) value = { n: value }
    expect(() => validateDataModel(value)).not.toThrow()
  })

  it('rejects oversized containers, empty and long map keys', () => {
    expect(() => validateDataModel({ a: new Array(131_073).fill(0) })).toThrow(
      /more than 131072 entries/,
    )
    expect(() => validateDataModel({ a: new Array(131_072).fill(0) })).not.toThrow()
    expect(() => validateDataModel({ '': 1 })).toThrow(/map keys may not be empty/)
    expect(() => validateDataModel({ ['é'.repeat(4097)]: 1 })).toThrow(/longer than 8192 bytes/)
    expect(() => validateDataModel({ ['é'.repeat(4096)]: 1 })).not.toThrow()
  })

  it('rejects unsafe integers, non-finite numbers and non-JSON values', () => {
    expect(() => validateDataModel({ a: 2 ** 53 })).toThrow(/within/)
    expect(() => validateDataModel({ a: Number.NaN })).toThrow(/floats/)
    expect(() => validateDataModel({ a: [1, undefined] })).toThrow(/\$\.a\[1\]: arrays may not/)
    expect(() => validateDataModel({ a: new Date() })).toThrow(/Date is not a data-model value/)
    expect(() => validateDataModel({ a: new Uint8Array(1) })).toThrow(/Uint8Array/)
    expect(() => validateDataModel({ a: 1n })).toThrow(/integer out of range/)
    expect(() => validateDataModel([])).toThrow(/top level must be an object \(got Array\)/)
    expect(() => validateDataModel({ $link: DATA_CID })).toThrow(/top level/)
  })

  it('checks blob fields', () => {
    const blob = { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 0 }
    expect(() => validateDataModel({ blob })).not.toThrow()
    expect(() => validateDataModel({ blob: { ...blob, mimeType: '' } })).toThrow(/mimeType/)
    expect(() => validateDataModel({ blob: { ...blob, size: -1 } })).toThrow(/size/)
    expect(() => validateDataModel({ blob: { ...blob, size: 1.5 } })).toThrow(/size/)
    expect(() => validateDataModel({ blob: { ...blob, ref: BLOB_CID } })).toThrow(
      /ref must be a link/,
    )
    expect(() => validateDataModel({ blob: { ...blob, ref: { $link: 'nope' } } })).toThrow(
      /\$\.blob\.ref: \$link is not a valid CID/,
    )
  })

  it('accepts legacy blobs and unknown $-keys', () => {
    expect(() =>
      validateDataModel({ image: { cid: BLOB_CID, mimeType: 'image/jpeg' }, $unknown: 1 }),
    ).not.toThrow()
  })

  it('validates the data-model form', () => {
    const cid = CID.parse(DATA_CID)
    expect(() =>
      ensureDataModelValue({ l: cid, b: new Uint8Array(3), big: 2n ** 60n, n: null }),
    ).not.toThrow()
    expect(() => ensureDataModelValue({ l: { $link: DATA_CID } })).toThrow(/reserved/)
    expect(() => ensureDataModelValue({ big: 2n ** 63n })).toThrow(/out of range/)
    expect(() => ensureDataModelValue({ m: new Map() })).toThrow(/Map is not a data-model value/)
    expect(() =>
      ensureDataModelValue({ b: { $type: 'blob', ref: DATA_CID, mimeType: 'a/b', size: 1 } }),
    ).toThrow(/ref must be a link/)
    expect(() =>
      ensureDataModelValue({ b: { $type: 'blob', ref: cid, mimeType: 'a/b', size: 1 } }),
    ).not.toThrow()
  })
})

describe('jsonToIpld / ipldToJson', () => {
  it('converts links, bytes and blobs recursively', () => {
    const ipld = jsonToIpld({
      list: [{ $link: DATA_CID }, { $bytes: 'AAEC' }],
      blob: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 3 },
      skipped: undefined,
    }) as Record<string, unknown>
    const list = ipld.list as unknown[]
    expect(CID.asCID(list[0])?.toString()).toBe(DATA_CID)
    expect(list[1]).toEqual(new Uint8Array([0, 1, 2]))
    expect(isBlobRef(ipld.blob)).toBe(true)
    expect('skipped' in ipld).toBe(false)
    expect(ipldToJson(ipld)).toEqual({
      list: [{ $link: DATA_CID }, { $bytes: 'AAEC' }],
      blob: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 3 },
    })
  })

  it('decodes the lenient "$bytes":"123" of the interop valid record', () => {
    expect(jsonToIpld({ $bytes: '123' })).toEqual(new Uint8Array([0xd7, 0x6d]))
  })

  it('rejects malformed $link and $bytes objects with DataModelError', () => {
    const bad: [unknown, RegExp][] = [
      [{ a: { $link: DATA_CID, x: 1 } }, /\$\.a: \$link object must have no other keys/],
      [{ a: { $link: 5 } }, /\$link must be a string/],
      [{ a: [{ $link: 'bafy' }] }, /\$\.a\[0\]: \$link is not a valid CID/],
      [{ a: { $bytes: 'AA', x: 1 } }, /\$bytes object must have no other keys/],
      [{ a: { $bytes: null } }, /\$bytes must be a string/],
      [{ a: { $bytes: 'A-_B' } }, /\$bytes is not valid base64/],
      [{ a: { $bytes: 'AAAAA' } }, /\$bytes is not valid base64/],
      [{ a: new Map() }, /not a JSON value \(Map\)/],
      [{ a: () => 1 }, /not a JSON value \(function\)/],
    ]
    for (const [json, message] of bad) {
      expect(() => jsonToIpld(json)).toThrow(DataModelError)
      expect(() => jsonToIpld(json)).toThrow(message)
    }
  })

  it('converts safe bigints and refuses unsafe ones', () => {
    expect(ipldToJson({ a: 5n })).toEqual({ a: 5 })
    expect(() => ipldToJson({ a: 2n ** 60n })).toThrow(/cannot be represented exactly in JSON/)
    expect(() => ipldToJson({ a: Symbol('x') })).toThrow(DataModelError)
  })
})

describe('base64', () => {
  it('encodes without padding, standard and URL alphabets', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf, 0x01])
    expect(base64Encode(bytes)).toBe('+/+/AQ')
    expect(base64UrlEncode(bytes)).toBe('-_-_AQ')
    expect(base64Encode(new Uint8Array())).toBe('')
  })

  it('decodes leniently: optional padding and non-zero trailing bits', () => {
    expect(base64Decode('AQ==')).toEqual(new Uint8Array([1]))
    expect(base64Decode('AQ=')).toEqual(new Uint8Array([1]))
    expect(base64Decode('AQ')).toEqual(new Uint8Array([1]))
    expect(base64Decode('AR')).toEqual(new Uint8Array([1]))
    expect(base64Decode('123')).toEqual(new Uint8Array([0xd7, 0x6d]))
    expect(base64Decode('')).toEqual(new Uint8Array())
    expect(base64UrlDecode('-_-_AQ')).toEqual(new Uint8Array([0xfb, 0xff, 0xbf, 0x01]))
  })

  it('rejects bad characters and impossible lengths', () => {
    expect(() => base64Decode('-_')).toThrow(/character/)
    expect(() => base64UrlDecode('+/')).toThrow(/character/)
    expect(() => base64Decode('A')).toThrow(/length/)
    expect(() => base64Decode('AA AAA')).toThrow(/character/)
    expect(() => base64Decode('A===')).toThrow()
  })

  it('matches Node Buffer on random data', () => {
    for (let n = 0; n < 64; n++) {
      const bytes = new Uint8Array(n)
      crypto.getRandomValues(bytes)
      const expected = Buffer.from(bytes).toString('base64').replace(/=+$/, '')
      expect(base64Encode(bytes)).toBe(expected)
      expect(base64Decode(expected)).toEqual(bytes)
      expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes)
      expect(base64UrlEncode(bytes)).toBe(Buffer.from(bytes).toString('base64url'))
    }
  })
})

describe('blob refs', () => {
  const ref = CID.parse(BLOB_CID)
  const blob: BlobRef = { $type: 'blob', ref, mimeType: 'image/png', size: 10 }

  it('isBlobRef checks the data-model shape', () => {
    expect(isBlobRef(blob)).toBe(true)
    expect(isBlobRef({ ...blob, ref: BLOB_CID })).toBe(false)
    expect(isBlobRef({ ...blob, size: '10' })).toBe(false)
    expect(isBlobRef({ ...blob, $type: 'other' })).toBe(false)
    expect(isBlobRef(null)).toBe(false)
  })

  it('parseLegacyBlobRef reads {cid, mimeType} only', () => {
    expect(parseLegacyBlobRef({ cid: BLOB_CID, mimeType: 'image/jpeg' })).toEqual({
      ref,
      mimeType: 'image/jpeg',
    })
    expect(parseLegacyBlobRef({ cid: 'nope', mimeType: 'image/jpeg' })).toBeNull()
    expect(parseLegacyBlobRef({ cid: BLOB_CID, mimeType: 'a/b', uri: 'at://x' })).toBeNull()
    expect(parseLegacyBlobRef({ cid: BLOB_CID })).toBeNull()
  })

  it('findBlobRefs collects every blob, legacy ones too, in document order', async () => {
    const other = await cidForRawBytes(new Uint8Array([1, 2, 3]))
    const record = {
      $type: 'app.bsky.feed.post',
      embed: {
        images: [
          { image: blob, alt: 'a' },
          { image: { cid: other.toString(), mimeType: 'image/jpeg' }, alt: 'b' },
        ],
      },
      strongRef: { uri: 'at://did:plc:x/app.bsky.feed.post/1', cid: BLOB_CID },
      again: blob,
      link: ref,
    }
    const found = findBlobRefs(record)
    expect(found.map((b) => [b.ref.toString(), b.mimeType, b.size, b.$type])).toEqual([
      [BLOB_CID, 'image/png', 10, 'blob'],
      [other.toString(), 'image/jpeg', undefined, undefined],
      [BLOB_CID, 'image/png', 10, 'blob'],
    ])
    expect(findBlobRefs({ a: 1, b: [null, 'x'] })).toEqual([])
  })
})

describe('encodeCbor on non-data values', () => {
  it('rejects functions, symbols, Map, Set, Date and out-of-range bigints', () => {
    const bad: [unknown, RegExp][] = [
      [{ a: () => 1 }, /function/],
      [{ a: Symbol('s') }, /symbol/],
      [{ a: new Map([['k', 1]]) }, /Map/],
      [{ a: new Set([1]) }, /Set/],
      [{ a: new Date(0) }, /Date/],
      [{ a: new Uint16Array(2) }, /Uint16Array/],
      [{ a: 2n ** 64n }, /64 bits/],
    ]
    for (const [value, message] of bad) {
      expect(() => encodeCbor(value)).toThrow(DataModelError)
      expect(() => encodeCbor(value)).toThrow(message)
    }
  })

  it('accepts null-prototype objects and 64-bit bigints', () => {
    const map = Object.create(null) as Record<string, unknown>
    map.a = 1
    expect(decodeCbor(encodeCbor(map))).toEqual({ a: 1 })
    expect(decodeCbor(encodeCbor({ a: 2n ** 62n }))).toEqual({ a: 2n ** 62n })
  })

  it('bytesEqual and cborEquals compare by content', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true)
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false)
    expect(cborEquals({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true)
    expect(cborEquals({ a: 1 }, { a: 2 })).toBe(false)
  })
})

describe('untrusted map keys', () => {
  const json = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'

  it('keeps "__proto__" as a plain own key through JSON and CBOR, polluting nothing', () => {
    const value = jsonToIpld(JSON.parse(json)) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor'])
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: true })
    const decoded = decodeCbor(encodeCbor(value)) as Record<string, unknown>
    expect(Object.keys(decoded).sort()).toEqual(['__proto__', 'constructor'])
    expect(JSON.stringify(ipldToJson(decoded))).toBe(json)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('gives a "__proto__" key its own CID, unlike the same record without it', async () => {
    const withKey = await cidForCborBytes(encodeCbor(jsonToIpld(JSON.parse(json))))
    const without = await cidForCborBytes(
      encodeCbor(jsonToIpld(JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'))),
    )
    expect(withKey.toString()).not.toBe(without.toString())
  })
})
