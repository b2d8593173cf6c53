import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OUTPUT_FILE, renderLexiconsModule } from '../../scripts/build-lexicons.ts'
import { lexiconDocs } from '../../src/lexicon/generated/lexicons.ts'
import { getDefaultLexicons } from '../../src/lexicon/index.ts'

describe('generated lexicon module', () => {
  it('is up to date with lexicons/ (run `node scripts/build-lexicons.ts` if not)', async () => {
    const expected = await renderLexiconsModule()
    expect(readFileSync(OUTPUT_FILE, 'utf8') === expected).toBe(true)
  })

  it('backs the default registry, built once', () => {
    const lexicons = getDefaultLexicons()
    expect(getDefaultLexicons()).toBe(lexicons)
    expect([...lexicons.ids()]).toHaveLength(lexiconDocs.length)
    expect(lexicons.getDef('com.atproto.repo.strongRef')?.type).toBe('object')
  })
})
