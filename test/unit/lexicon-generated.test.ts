import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  METHOD_TYPES_FILE,
  OUTPUT_FILE,
  renderLexiconsModule,
  renderMethodTypesModule,
} from '../../scripts/build-lexicons.ts'
import { lexiconDocs } from '../../src/lexicon/generated/lexicons.ts'
import { getDefaultLexicons, LexiconDocError, Lexicons } from '../../src/lexicon/index.ts'

describe('generated lexicon module', () => {
  it('is up to date with lexicons/ (run `node scripts/build-lexicons.ts` if not)', async () => {
    const expected = await renderLexiconsModule()
    expect(readFileSync(OUTPUT_FILE, 'utf8') === expected).toBe(true)
  })

  it('has method types up to date with lexicons/ (run `npm run lexicons` if not)', async () => {
    const expected = await renderMethodTypesModule()
    expect(readFileSync(METHOD_TYPES_FILE, 'utf8') === expected).toBe(true)
  })

  it('leaves out description texts but keeps fields named description', () => {
    const text = readFileSync(OUTPUT_FILE, 'utf8')
    expect(text).not.toMatch(/"description":"/)
    const profile = getDefaultLexicons().getDef('app.bsky.actor.profile') as {
      record: { properties: Record<string, { type: string; maxGraphemes?: number }> }
    }
    expect(profile.record.properties.description).toMatchObject({
      type: 'string',
      maxGraphemes: 256,
    })
  })

  it('holds only valid documents', () => {
    expect(new Lexicons(lexiconDocs).ids()).toHaveLength(lexiconDocs.length)
  })

  it('backs the default registry, built once and lazily', () => {
    const lexicons = getDefaultLexicons()
    expect(getDefaultLexicons()).toBe(lexicons)
    expect(lexicons.ids()).toHaveLength(lexiconDocs.length)
    expect(lexicons.has('app.bsky.feed.like')).toBe(true)
    expect(lexicons.getDef('com.atproto.repo.strongRef')?.type).toBe('object')
    expect(lexicons.getDef('app.bsky.feed.like#main')?.type).toBe('record')
    expect(lexicons.get('app.bsky.feed.like')?.id).toBe('app.bsky.feed.like')
  })
})

describe('lazy registries', () => {
  const good = { lexicon: 1, id: 'com.example.good', defs: { main: { type: 'token' } } }
  const bad = { lexicon: 2, id: 'com.example.bad', defs: { main: { type: 'token' } } }

  it('check a document when it is first used', () => {
    const lexicons = new Lexicons([good, bad], { lazy: true })
    expect(lexicons.has('com.example.bad')).toBe(true)
    expect(lexicons.getDef('com.example.good')?.type).toBe('token')
    expect(() => lexicons.getDef('com.example.bad')).toThrow(LexiconDocError)
    expect(() => lexicons.get('com.example.bad')).toThrow(LexiconDocError)
  })

  it('still refuse duplicate or id-less documents up front', () => {
    expect(() => new Lexicons([good, good], { lazy: true })).toThrow(/already loaded/)
    expect(() => new Lexicons([{ defs: {} }], { lazy: true })).toThrow(LexiconDocError)
    const lexicons = new Lexicons([good], { lazy: true })
    expect(() => lexicons.add(good)).toThrow(/already loaded/)
  })
})
