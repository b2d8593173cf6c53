import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { jsonToIpld } from '../../src/data/json.ts'
import {
  getDefaultLexicons,
  LexiconDefNotFoundError,
  Lexicons,
  LexiconValidationError,
} from '../../src/lexicon/index.ts'

const CATALOG = join(import.meta.dirname, '../fixtures/interop/lexicon/catalog')
const catalog = new Lexicons(
  readdirSync(CATALOG).map((f) => JSON.parse(readFileSync(join(CATALOG, f), 'utf8'))),
)
const lexicons = getDefaultLexicons()

function paramsError(nsid: string, params: Record<string, string | string[] | undefined>): string {
  const result = lexicons.safeValidateXrpcParams(nsid, params)
  if (result.success) throw new Error('expected the params to be rejected')
  return result.error.message
}

describe('XRPC params', () => {
  const listRecords = 'com.atproto.repo.listRecords'
  const base = { repo: 'alice.example.com', collection: 'app.bsky.feed.post' }

  it('coerces com.atproto.repo.listRecords params', () => {
    const params = lexicons.assertValidXrpcParams(listRecords, {
      ...base,
      limit: '50',
      reverse: 'true',
      cursor: 'abc',
      unexpected: 'dropped',
    })
    expect(params).toEqual({ ...base, limit: 50, reverse: true, cursor: 'abc' })
  })

  it('applies defaults and leaves optional params out', () => {
    expect(lexicons.assertValidXrpcParams(listRecords, base)).toEqual({ ...base, limit: 50 })
    expect(lexicons.assertValidXrpcParams(listRecords, { ...base, reverse: 'false' })).toEqual({
      ...base,
      limit: 50,
      reverse: false,
    })
  })

  it('rejects bad values, naming the param', () => {
    expect(paramsError(listRecords, { ...base, limit: '101' })).toBe(
      'Params/limit can not be greater than 100',
    )
    expect(paramsError(listRecords, { ...base, limit: '0' })).toBe(
      'Params/limit can not be less than 1',
    )
    expect(paramsError(listRecords, { ...base, limit: '1.5' })).toBe(
      'Params/limit must be an integer',
    )
    expect(paramsError(listRecords, { ...base, limit: 'ten' })).toBe(
      'Params/limit must be an integer',
    )
    expect(paramsError(listRecords, { ...base, reverse: 'yes' })).toBe(
      'Params/reverse must be a boolean ("true" or "false")',
    )
    expect(paramsError(listRecords, { ...base, collection: 'not an nsid' })).toBe(
      'Params/collection must be a valid NSID',
    )
    expect(paramsError(listRecords, { repo: 'alice.example.com' })).toBe(
      'Params must have the property "collection"',
    )
    expect(paramsError(listRecords, { ...base, limit: ['1', '2'] })).toBe(
      'Params/limit must not be repeated',
    )
  })

  it('builds arrays from repeated params and validates each item', () => {
    const nsid = 'app.bsky.actor.getProfiles'
    const actors = ['alice.example.com', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz']
    expect(lexicons.assertValidXrpcParams(nsid, { actors })).toEqual({ actors })
    expect(lexicons.assertValidXrpcParams(nsid, { actors: 'bob.example.com' })).toEqual({
      actors: ['bob.example.com'],
    })
    expect(paramsError(nsid, { actors: ['alice.example.com', 'no spaces'] })).toBe(
      'Params/actors/1 must be a valid handle or DID',
    )
    expect(paramsError(nsid, { actors: Array(26).fill('a.example.com') })).toBe(
      'Params/actors must not have more than 25 elements',
    )
  })

  it('coerces integer arrays (catalog query)', () => {
    const nsid = 'example.lexicon.query'
    expect(
      catalog.assertValidXrpcParams(nsid, { stringField: 's', array: ['1', '-2'], integer: '3' }),
    ).toEqual({ stringField: 's', array: [1, -2], integer: 3 })
    expect(() => catalog.assertValidXrpcParams(nsid, { stringField: 's', array: ['x'] })).toThrow(
      'Params/array/0 must be an integer',
    )
  })

  it('returns an empty object for methods without parameters', () => {
    expect(lexicons.assertValidXrpcParams('com.atproto.server.describeServer', { x: '1' })).toEqual(
      {},
    )
  })

  it('refuses records and unknown methods as a schema problem, not bad params', () => {
    expect(() => lexicons.assertValidXrpcParams('app.bsky.feed.post', {})).toThrow(
      LexiconDefNotFoundError,
    )
    expect(() => lexicons.safeValidateXrpcParams('com.example.nope', {})).toThrow(
      LexiconDefNotFoundError,
    )
  })
})

describe('XRPC bodies (data-model form)', () => {
  it('validates a createRecord input, leaving the record (unknown) to record validation', () => {
    const body = jsonToIpld({
      repo: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'hi', createdAt: '2024-01-01T00:00:00Z' },
    })
    expect(lexicons.assertValidXrpcInput('com.atproto.repo.createRecord', body)).toBe(body)
    const result = lexicons.safeValidateXrpcInput('com.atproto.repo.createRecord', {
      repo: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
      collection: 'app.bsky.feed.post',
      record: 'text',
    })
    expect(result.success).toBe(false)
    expect(!result.success && result.error.message).toBe('Input/record must be an object')
    expect(() => lexicons.assertValidXrpcInput('com.atproto.repo.createRecord', undefined)).toThrow(
      'Input must be an object',
    )
  })

  it('validates applyWrites union items with their $type', () => {
    const nsid = 'com.atproto.repo.applyWrites'
    const write = {
      $type: 'com.atproto.repo.applyWrites#delete',
      collection: 'app.bsky.feed.post',
      rkey: '3kznmn7xqxl22',
    }
    const body = { repo: 'alice.example.com', writes: [write] }
    expect(lexicons.assertValidXrpcInput(nsid, body)).toBe(body)
    const bad = { repo: 'alice.example.com', writes: [{ ...write, $type: 'com.example.other' }] }
    expect(() => lexicons.assertValidXrpcInput(nsid, bad)).toThrow(
      /^Input\/writes\/0 \$type must be one of com\.atproto\.repo\.applyWrites#create/,
    )
  })

  it('skips bodies without a schema (blob upload)', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(lexicons.assertValidXrpcInput('com.atproto.repo.uploadBlob', bytes)).toBe(bytes)
  })

  it('validates outputs, including blobs in data-model form', () => {
    const output = jsonToIpld({
      blob: {
        $type: 'blob',
        ref: { $link: 'bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4' },
        mimeType: 'image/png',
        size: 10,
      },
    })
    expect(lexicons.assertValidXrpcOutput('com.atproto.repo.uploadBlob', output)).toBe(output)
    expect(() => lexicons.assertValidXrpcOutput('com.atproto.repo.uploadBlob', {})).toThrow(
      'Output must have the property "blob"',
    )
    expect(() =>
      lexicons.assertValidXrpcOutput('com.atproto.server.describeServer', { did: 'x' }),
    ).toThrow(LexiconValidationError)
    expect(() => lexicons.assertValidXrpcInput('com.atproto.server.describeServer', {})).toThrow(
      /is not a procedure/,
    )
  })

  it('reports a ref to a definition that is not loaded as a schema problem', () => {
    expect(() =>
      catalog.assertValidXrpcInput('example.lexicon.procedure', { preferences: [] }),
    ).toThrow(LexiconDefNotFoundError)
  })
})

describe('subscription messages', () => {
  const nsid = 'com.atproto.sync.subscribeRepos'
  const account = {
    seq: 5,
    did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
    time: '2024-01-01T00:00:00.000Z',
    active: false,
    status: 'deactivated',
  }

  it('validates a body by its frame type, without $type', () => {
    expect(lexicons.assertValidXrpcMessage(nsid, account, '#account')).toBe(account)
    expect(() =>
      lexicons.assertValidXrpcMessage(nsid, { ...account, seq: 'x' }, '#account'),
    ).toThrow('Message/seq must be an integer')
    const { active: _, ...noActive } = account
    expect(() => lexicons.assertValidXrpcMessage(nsid, noActive, '#account')).toThrow(
      'Message must have the property "active"',
    )
  })

  it('falls back to the body $type, and lets unknown types through the open union', () => {
    const typed = { $type: `${nsid}#account`, ...account }
    expect(lexicons.assertValidXrpcMessage(nsid, typed)).toBe(typed)
    expect(lexicons.assertValidXrpcMessage(nsid, { x: 1 }, '#futureThing')).toEqual({ x: 1 })
    expect(() => lexicons.assertValidXrpcMessage(nsid, { x: 1 })).toThrow(
      'Message must be an object which includes the "$type" property',
    )
  })

  it('validates the catalog subscription', () => {
    const sub = 'example.lexicon.subscription'
    expect(catalog.assertValidXrpcMessage(sub, { seq: 1, yo: true }, '#yo')).toEqual({
      seq: 1,
      yo: true,
    })
    expect(catalog.safeValidateXrpcMessage(sub, { seq: 1 }, '#yo').success).toBe(false)
    expect(catalog.assertValidXrpcParams(sub, { cursor: '12' })).toEqual({ cursor: 12 })
  })
})

describe('assertValidValue', () => {
  it('validates against any definition', () => {
    const strongRef = {
      uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kznmn7xqxl22',
      cid: 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq',
    }
    expect(lexicons.assertValidValue('com.atproto.repo.strongRef', strongRef)).toBe(strongRef)
    expect(lexicons.safeValidateValue('com.atproto.repo.strongRef#main', { uri: 'x' })).toEqual({
      success: false,
      error: expect.objectContaining({ message: 'Value/uri must be a valid AT-URI' }),
    })
  })
})
