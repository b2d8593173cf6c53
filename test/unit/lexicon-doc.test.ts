import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LexiconDocError, Lexicons, parseLexiconDoc } from '../../src/lexicon/index.ts'

const FIXTURES = join(import.meta.dirname, '../fixtures/interop/lexicon')
const LEXICONS = join(import.meta.dirname, '../../lexicons')

type NamedDoc = { name: string; lexicon: unknown }

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => join(e.parentPath, e.name))
}

const valid = readJson<NamedDoc[]>(join(FIXTURES, 'lexicon-valid.json'))
const invalid = readJson<NamedDoc[]>(join(FIXTURES, 'lexicon-invalid.json'))

describe('parseLexiconDoc: interop vectors', () => {
  it('has the expected vectors', () => {
    expect(valid).toHaveLength(3)
    expect(invalid).toHaveLength(7)
  })

  it.each(valid.map((v) => [v.name, v.lexicon]))('accepts %s', (_name, doc) => {
    expect(parseLexiconDoc(doc)).toBe(doc)
  })

  it.each(invalid.map((v) => [v.name, v.lexicon]))('rejects %s', (_name, doc) => {
    expect(() => parseLexiconDoc(doc)).toThrow(LexiconDocError)
  })

  it('loads all 5 catalog documents into one registry', () => {
    const files = jsonFilesUnder(join(FIXTURES, 'catalog'))
    expect(files).toHaveLength(5)
    const lexicons = new Lexicons(files.map((f) => readJson(f)))
    for (const id of [
      'example.lexicon.record',
      'example.lexicon.query',
      'example.lexicon.procedure',
      'example.lexicon.subscription',
      'example.lexicon.permissionset',
    ]) {
      expect(lexicons.has(id)).toBe(true)
    }
    expect(lexicons.getDef('example.lexicon.record')?.type).toBe('record')
    expect(lexicons.getDef('example.lexicon.record#main')?.type).toBe('record')
    expect(lexicons.getDef('example.lexicon.record#demoToken')?.type).toBe('token')
    expect(lexicons.getDef('example.lexicon.permissionset')?.type).toBe('permission-set')
    expect(lexicons.getDef('example.lexicon.record#nope')).toBeUndefined()
  })
})

describe('parseLexiconDoc: rule coverage', () => {
  const base = (defs: Record<string, unknown>): unknown => ({
    lexicon: 1,
    id: 'com.example.test',
    defs,
  })
  const message = (doc: unknown): string => {
    try {
      parseLexiconDoc(doc)
    } catch (err) {
      expect(err).toBeInstanceOf(LexiconDocError)
      return (err as Error).message
    }
    throw new Error('expected the document to be rejected')
  }

  it('requires lexicon to be exactly 1 and defs to be non-empty', () => {
    expect(message({ ...(base({ a: { type: 'token' } }) as object), lexicon: 2 })).toMatch(
      /lexicon must be the integer 1/,
    )
    expect(message(base({}))).toMatch(/defs must not be empty/)
    expect(message('nope')).toMatch(/must be an object/)
  })

  it('names the offending definition in messages', () => {
    expect(message(base({ main: { type: 'string', format: 'email' } }))).toBe(
      'com.example.test: defs/main/format "email" is not a known string format',
    )
    expect(message(base({ thing: { type: 'query' } }))).toMatch(
      /defs\/thing is a query, which may only be defined as "main"/,
    )
  })

  it.each([
    ['union', { type: 'union', refs: [] }],
    ['params', { type: 'params', properties: {} }],
    ['permission', { type: 'permission', resource: 'repo' }],
  ])('rejects a named %s definition', (_type, def) => {
    expect(message(base({ demo: def }))).toMatch(/can't be a named definition/)
  })

  it.each([
    ['an unknown def type', { main: { type: 'float' } }],
    ['an unknown field type', { main: { type: 'array', items: { type: 'float' } } }],
    ['string const with default', { main: { type: 'string', const: 'a', default: 'b' } }],
    [
      'an empty closed union',
      { main: { type: 'object', properties: { u: { type: 'union', refs: [], closed: true } } } },
    ],
    [
      'a bad ref',
      { main: { type: 'object', properties: { r: { type: 'ref', ref: 'not a ref' } } } },
    ],
    ['required not in properties', { main: { type: 'object', required: ['x'], properties: {} } }],
    ['negative maxLength', { main: { type: 'string', maxLength: -1 } }],
    ['minLength above maxLength', { main: { type: 'bytes', minLength: 5, maxLength: 4 } }],
    ['a partial blob glob', { main: { type: 'blob', accept: ['text/ht*'] } }],
    ['a bare * blob accept', { main: { type: 'blob', accept: ['*'] } }],
    [
      'a record without key',
      { main: { type: 'record', record: { type: 'object', properties: {} } } },
    ],
    [
      'a record with an unknown key type',
      { main: { type: 'record', key: 'uuid', record: { type: 'object', properties: {} } } },
    ],
    ['a query with input', { main: { type: 'query', input: { encoding: 'application/json' } } }],
    [
      'a body without encoding',
      { main: { type: 'procedure', input: { schema: { type: 'object', properties: {} } } } },
    ],
    [
      'a body schema of type array',
      {
        main: {
          type: 'procedure',
          input: {
            encoding: 'application/json',
            schema: { type: 'array', items: { type: 'integer' } },
          },
        },
      },
    ],
    [
      'an object param',
      {
        main: {
          type: 'query',
          parameters: { type: 'params', properties: { o: { type: 'object', properties: {} } } },
        },
      },
    ],
    [
      'an array-of-bytes param',
      {
        main: {
          type: 'query',
          parameters: {
            type: 'params',
            properties: { b: { type: 'array', items: { type: 'bytes' } } },
          },
        },
      },
    ],
    ['a subscription without message', { main: { type: 'subscription' } }],
    [
      'a subscription message that is an object',
      { main: { type: 'subscription', message: { schema: { type: 'object', properties: {} } } } },
    ],
    ['an error name with whitespace', { main: { type: 'query', errors: [{ name: 'Bad Thing' }] } }],
    ['a permission-set without permissions', { main: { type: 'permission-set' } }],
    [
      'a permission-set with a non-permission',
      { main: { type: 'permission-set', permissions: [{ type: 'token' }] } },
    ],
    [
      'a permission-set with a bad title:lang key',
      { main: { type: 'permission-set', 'title:lang': { '!!': 'x' }, permissions: [] } },
    ],
  ])('rejects %s', (_name, defs) => {
    expect(() => parseLexiconDoc(base(defs))).toThrow(LexiconDocError)
  })

  it('accepts a non-primary main, tokens, local and global refs, and open empty unions', () => {
    const doc = base({
      main: {
        type: 'object',
        required: ['a'],
        nullable: ['a'],
        properties: {
          a: { type: 'ref', ref: '#other' },
          b: { type: 'union', refs: [] },
          c: { type: 'union', refs: ['com.example.other#x', 'com.example.other'], closed: true },
          d: { type: 'array', items: { type: 'array', items: { type: 'cid-link' } } },
        },
      },
      other: { type: 'string', knownValues: ['com.example.test#tok'] },
      tok: { type: 'token' },
    })
    expect(parseLexiconDoc(doc)).toBe(doc)
  })
})

describe('official lexicons', () => {
  it('all load into one registry (com.atproto, app.bsky, chat.bsky)', () => {
    const files = jsonFilesUnder(LEXICONS)
    expect(files.length).toBeGreaterThan(300)
    const lexicons = new Lexicons(files.map((f) => readJson(f)))
    for (const id of [
      'com.atproto.repo.createRecord',
      'com.atproto.sync.subscribeRepos',
      'app.bsky.feed.post',
      'chat.bsky.convo.sendMessage',
    ]) {
      expect(lexicons.has(id)).toBe(true)
    }
    expect(lexicons.ids()).toHaveLength(files.length)
  })

  it('rejects loading the same id twice', () => {
    const doc = readJson(join(LEXICONS, 'app/bsky/feed/post.json'))
    const lexicons = new Lexicons([doc])
    expect(() => lexicons.add(doc)).toThrow(/already loaded/)
  })

  it('stores refs in absolute form without changing the input', () => {
    const doc = readJson<{
      defs: { main: { record: { properties: { reply: { ref: string } } } } }
    }>(join(LEXICONS, 'app/bsky/feed/post.json'))
    const stored = new Lexicons([doc]).get('app.bsky.feed.post') as unknown as typeof doc
    expect(doc.defs.main.record.properties.reply.ref).toBe('#replyRef')
    expect(stored.defs.main.record.properties.reply.ref).toBe('app.bsky.feed.post#replyRef')
  })
})
