import { scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  generateAppPassword,
  hashAppPassword,
  hashPassword,
  isAppPasswordFormat,
  needsRehash,
  PASSWORD_PARAMS,
  PasswordHashError,
  verifyAppPassword,
  verifyPassword,
} from '../../src/auth/index.ts'

const CHEAP = { N: 2 ** 10, r: 8, p: 1 }
const FORMAT = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

describe('account passwords', () => {
  it("hashes with the reference PDS's strength into the self-describing format", async () => {
    expect(PASSWORD_PARAMS).toEqual({ N: 2 ** 14, r: 8, p: 1 })
    const stored = await hashPassword('correct horse battery staple')
    const match = FORMAT.exec(stored)
    expect(match).not.toBeNull()
    expect(match!.slice(1, 4)).toEqual(['14', '8', '1'])
    expect(Buffer.from(match![4]!, 'base64')).toHaveLength(16)
    expect(Buffer.from(match![5]!, 'base64')).toHaveLength(32)
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true)
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false)
    expect(await verifyPassword('', stored)).toBe(false)
    expect(needsRehash(stored)).toBe(false)
  })

  it('is standard scrypt (RFC 7914), checked against node:crypto', async () => {
    const stored = await hashPassword('hunter2', CHEAP)
    const [, , saltText, hashText] = stored.split('$') as [string, string, string, string]
    const salt = Buffer.from(saltText, 'base64')
    const expected = scryptSync('hunter2', salt, 32, { N: 2 ** 10, r: 8, p: 1 })
    expect(Buffer.from(hashText, 'base64')).toEqual(expected)
  })

  it('verifies a hash built elsewhere with other parameters, and asks for a rehash', async () => {
    const salt = Buffer.from('0123456789abcdef')
    const hash = scryptSync('pässwörd 🔑', salt, 32, { N: 2 ** 11, r: 4, p: 2 })
    const stored = `scrypt$ln=11,r=4,p=2$${salt.toString('base64').replace(/=+$/, '')}$${hash.toString('base64').replace(/=+$/, '')}`
    expect(await verifyPassword('pässwörd 🔑', stored)).toBe(true)
    expect(await verifyPassword('passwörd 🔑', stored)).toBe(false)
    expect(needsRehash(stored)).toBe(true)
  })

  it('still verifies a hash of the former default (N=2^14, r=8, p=5), and asks for a rehash', async () => {
    const salt = Buffer.from('fedcba9876543210')
    const hash = scryptSync('old password', salt, 32, { N: 2 ** 14, r: 8, p: 5, maxmem: 2 ** 26 })
    const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '')
    const stored = `scrypt$ln=14,r=8,p=5$${b64(salt)}$${b64(hash)}`
    expect(await verifyPassword('old password', stored)).toBe(true)
    expect(await verifyPassword('new password', stored)).toBe(false)
    expect(needsRehash(stored)).toBe(true)
    expect(needsRehash(stored, { N: 2 ** 14, r: 8, p: 5 })).toBe(false)
    const fresh = await hashPassword('old password')
    expect(fresh.startsWith('scrypt$ln=14,r=8,p=1$')).toBe(true)
    expect(needsRehash(fresh)).toBe(false)
    expect(needsRehash(fresh, CHEAP)).toBe(true)
  })

  it('salts every hash', async () => {
    const a = await hashPassword('same', CHEAP)
    const b = await hashPassword('same', CHEAP)
    expect(a).not.toBe(b)
    expect(await verifyPassword('same', a)).toBe(true)
    expect(await verifyPassword('same', b)).toBe(true)
    expect(needsRehash(a)).toBe(true)
  })

  it('refuses unreadable or out-of-range stored hashes without hashing', async () => {
    const good = await hashPassword('x', CHEAP)
    const [, settings, salt, hash] = good.split('$') as [string, string, string, string]
    const bad = [
      '',
      'plaintext',
      `bcrypt$${settings}$${salt}$${hash}`,
      `scrypt$${settings}$${salt}`,
      `scrypt$n=1024,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=30,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=4,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=16,r=32,p=1$${salt}$${hash}`,
      `scrypt$ln=14,r=8,p=999$${salt}$${hash}`,
      `scrypt$${settings}$${salt}$${hash}==`,
      `scrypt$${settings}$!!$${hash}`,
      `scrypt$${settings}$AAAA$${hash}`,
    ]
    const started = performance.now()
    for (const stored of bad) {
      await expect(verifyPassword('x', stored)).rejects.toBeInstanceOf(PasswordHashError)
      expect(needsRehash(stored)).toBe(true)
    }
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('refuses parameters outside the bounds when hashing', async () => {
    await expect(hashPassword('x', { N: 1000, r: 8, p: 1 })).rejects.toBeInstanceOf(
      PasswordHashError,
    )
    await expect(hashPassword('x', { N: 2 ** 20, r: 8, p: 1 })).rejects.toBeInstanceOf(
      PasswordHashError,
    )
  })
})

describe('app passwords', () => {
  it('generates 4x4 lowercase base32 groups', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const password = generateAppPassword()
      expect(password).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
      expect(isAppPasswordFormat(password)).toBe(true)
      seen.add(password)
    }
    expect(seen.size).toBe(50)
  })

  it('recognises the format only', () => {
    expect(isAppPasswordFormat('abcd-efgh-ijkl-mnop')).toBe(true)
    expect(isAppPasswordFormat('abcd-efgh-ijkl-mnop ')).toBe(false)
    expect(isAppPasswordFormat('ABCD-EFGH-IJKL-MNOP')).toBe(false)
    expect(isAppPasswordFormat('abcd-efgh-ijkl-mn0p')).toBe(false)
    expect(isAppPasswordFormat('abcdefghijklmnop')).toBe(false)
  })

  it('hashes fast with a salt and verifies in constant time', () => {
    const password = generateAppPassword()
    const stored = hashAppPassword(password)
    expect(stored).toMatch(/^sha256\$\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(hashAppPassword(password)).not.toBe(stored)
    expect(verifyAppPassword(password, stored)).toBe(true)
    expect(verifyAppPassword(generateAppPassword(), stored)).toBe(false)
  })

  it('throws on an unreadable stored app password', async () => {
    const scrypt = await hashPassword('abcd-efgh-ijkl-mnop', CHEAP)
    for (const stored of [
      '',
      'sha256$$AAAA',
      scrypt,
      'sha256$$AAAAAAAAAAA$AAAA',
      'sha256$x$AAAAAAAAAAAAAAAAAAAAAA$AAAA',
    ]) {
      expect(() => verifyAppPassword('abcd-efgh-ijkl-mnop', stored)).toThrow(PasswordHashError)
    }
  })
})
