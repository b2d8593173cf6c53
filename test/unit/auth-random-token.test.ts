import { describe, expect, it } from 'vitest'
import {
  generateEmailToken,
  generateInviteCode,
  normalizeEmailToken,
  randomString,
  randomToken,
  UNAMBIGUOUS_ALPHABET,
} from '../../src/auth/index.ts'

describe('random tokens', () => {
  it('encodes 32 random bytes as base64url by default, or base32', () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(randomToken(), 'base64url')).toHaveLength(32)
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(randomToken(32, 'base32')).toMatch(/^[a-z2-7]{52}$/)
    const many = new Set(Array.from({ length: 100 }, () => randomToken(8)))
    expect(many.size).toBe(100)
  })

  it('draws random strings from the alphabet only, covering all of it', () => {
    const text = randomString(4000, 'abc')
    expect(text).toMatch(/^[abc]{4000}$/)
    for (const c of 'abc') {
      const count = text.split(c).length - 1
      // 4000/3 each; 5 standard deviations is about ±150
      expect(count).toBeGreaterThan(1180)
      expect(count).toBeLessThan(1490)
    }
    expect(() => randomString(3, 'a')).toThrow(RangeError)
  })

  it('makes invite codes in the reference shape', () => {
    const code = generateInviteCode('PDS.Example.com')
    expect(code).toMatch(/^pds-example-com-[a-z2-7]{5}-[a-z2-7]{5}$/)
    expect(generateInviteCode('pds.example.com')).not.toBe(code)
  })

  it('makes email tokens from an unambiguous alphabet', () => {
    expect(UNAMBIGUOUS_ALPHABET).not.toMatch(/[01ILO]/)
    expect(new Set(UNAMBIGUOUS_ALPHABET).size).toBe(UNAMBIGUOUS_ALPHABET.length)
    for (let i = 0; i < 50; i++) {
      const token = generateEmailToken()
      expect(token).toMatch(/^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/)
    }
    expect(normalizeEmailToken('  abcde-fghjk \n')).toBe('ABCDE-FGHJK')
  })
})
