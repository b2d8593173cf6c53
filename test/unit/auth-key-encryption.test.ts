import { createDecipheriv, hkdfSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decryptPrivateKey, encryptPrivateKey, KeyDecryptionError } from '../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'

const SECRET = 'test-key-encryption-secret'

describe('signing key encryption', () => {
  it('round-trips a signing key in the v1 format', async () => {
    const keypair = await Secp256k1Keypair.create()
    const privateKey = keypair.exportPrivateKey()
    const encoded = await encryptPrivateKey(privateKey, SECRET)
    expect(encoded).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{64}$/)
    const decrypted = await decryptPrivateKey(encoded, SECRET)
    expect(decrypted).toEqual(privateKey)
    expect((await Secp256k1Keypair.import(decrypted)).did()).toBe(keypair.did())
  })

  it('uses a fresh IV each time', async () => {
    const key = new Uint8Array(32).fill(7)
    const a = await encryptPrivateKey(key, SECRET)
    const b = await encryptPrivateKey(key, SECRET)
    expect(a.split('.')[1]).not.toBe(b.split('.')[1])
    expect(a).not.toBe(b)
  })

  it('is AES-256-GCM under HKDF-SHA256(secret), checked with node:crypto', async () => {
    const key = new Uint8Array(32).map((_, i) => i)
    const [, ivText, sealedText] = (await encryptPrivateKey(key, SECRET, 'did:plc:abc')).split(
      '.',
    ) as [string, string, string]
    const aesKey = Buffer.from(
      hkdfSync('sha256', SECRET, new Uint8Array(0), 'edge-pds signing-key encryption v1', 32),
    )
    const sealed = Buffer.from(sealedText, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(ivText, 'base64url'))
    decipher.setAAD(Buffer.from('did:plc:abc'))
    decipher.setAuthTag(sealed.subarray(-16))
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()])
    expect(new Uint8Array(plain)).toEqual(key)
  })

  it('fails clearly with the wrong secret', async () => {
    const encoded = await encryptPrivateKey(new Uint8Array(32).fill(1), SECRET)
    const err = await decryptPrivateKey(encoded, 'another-secret').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeyDecryptionError)
    expect((err as Error).message).toContain('PDS_KEY_ENCRYPTION_SECRET')
  })

  it('binds the ciphertext to its associated data', async () => {
    const encoded = await encryptPrivateKey(new Uint8Array(32).fill(2), SECRET, 'did:plc:alice')
    expect(await decryptPrivateKey(encoded, SECRET, 'did:plc:alice')).toEqual(
      new Uint8Array(32).fill(2),
    )
    await expect(decryptPrivateKey(encoded, SECRET, 'did:plc:bob')).rejects.toBeInstanceOf(
      KeyDecryptionError,
    )
    await expect(decryptPrivateKey(encoded, SECRET)).rejects.toBeInstanceOf(KeyDecryptionError)
  })

  it('rejects tampered or malformed input', async () => {
    const encoded = await encryptPrivateKey(new Uint8Array(32).fill(3), SECRET)
    const [version, iv, sealed] = encoded.split('.') as [string, string, string]
    const flipped = sealed.slice(0, 5) + (sealed[5] === 'A' ? 'B' : 'A') + sealed.slice(6)
    const cases = [
      `${version}.${iv}.${flipped}`,
      `v2.${iv}.${sealed}`,
      `${iv}.${sealed}`,
      `${version}.${iv}.${sealed}.x`,
      `${version}.AAAA.${sealed}`,
      `${version}.${iv}.AAAA`,
      `${version}.${iv}.${sealed}!`,
      '',
    ]
    for (const bad of cases) {
      await expect(decryptPrivateKey(bad, SECRET)).rejects.toBeInstanceOf(KeyDecryptionError)
    }
  })
})
