import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodePaperKey, encodePaperKey, PaperKeyError } from '../../cli/recovery-key/paper-key.ts'

describe('paper key', () => {
  it('is 14 groups of 4 base32 characters that decode to the key, however typed', () => {
    const key = randomBytes(32)
    const groups = encodePaperKey(key)
    expect(groups).toHaveLength(14)
    for (const group of groups) expect(group).toMatch(/^[a-z2-7]{4}$/)
    expect(Buffer.from(decodePaperKey(groups.join(' ')))).toEqual(key)
    expect(Buffer.from(decodePaperKey(groups.join('-').toUpperCase()))).toEqual(key)
    expect(Buffer.from(decodePaperKey(key.toString('hex')))).toEqual(key)
  })

  it('catches a mistyped character with its checksum', () => {
    const groups = encodePaperKey(randomBytes(32))
    const first = groups[0]!
    groups[0] = (first[0] === 'a' ? 'b' : 'a') + first.slice(1)
    expect(() => decodePaperKey(groups.join(' '))).toThrow(/typing mistake/)
  })

  it('refuses what is not a key', () => {
    expect(() => decodePaperKey('abcd efgh')).toThrow(PaperKeyError)
    expect(() => decodePaperKey('0'.repeat(56))).toThrow(PaperKeyError)
  })
})
