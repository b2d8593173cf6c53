import { readFileSync } from 'node:fs'
import * as reference from '@atproto/crypto'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58btc } from 'multiformats/bases/base58'
import { describe, expect, it } from 'vitest'
import {
  DidKeyError,
  didKeyFromVerificationMethod,
  formatDidKey,
  formatMultikey,
  isValidDidKey,
  type Keypair,
  P256Keypair,
  PrivateKeyError,
  parseDidKey,
  parseMultikey,
  randomBytes,
  Secp256k1Keypair,
  sha256,
  verifySignature,
} from '../../src/crypto/index.ts'
import { base64Decode } from '../../src/data/base64.ts'

const FIXTURES = new URL('../fixtures/interop/crypto/', import.meta.url)

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T
}

interface SignatureFixture {
  comment: string
  messageBase64: string
  algorithm: 'ES256' | 'ES256K'
  didDocSuite: string
  publicKeyDid: string
  publicKeyMultibase: string
  signatureBase64: string
  validSignature: boolean
  tags: string[]
}

const signatureFixtures = load<SignatureFixture[]>('signature-fixtures.json')
const k256DidKeys =
  load<{ privateKeyBytesHex: string; publicDidKey: string }[]>('w3c_didkey_K256.json')
const p256DidKeys =
  load<{ privateKeyBytesBase58: string; publicDidKey: string }[]>('w3c_didkey_P256.json')

const CURVES = { ES256K: secp256k1, ES256: p256 } as const

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The same signature with S replaced by n - S: still valid maths, but malleable. */
function flipS(alg: 'ES256' | 'ES256K', signature: Uint8Array): Uint8Array {
  const curve = CURVES[alg]
  const sig = curve.Signature.fromBytes(signature, 'compact')
  return new curve.Signature(sig.r, curve.Point.Fn.ORDER - sig.s).toBytes('compact')
}

describe('interop signature-fixtures.json', () => {
  expect(signatureFixtures.length).toBe(6)
  for (const fixture of signatureFixtures) {
    it(`${fixture.comment} -> ${fixture.validSignature}`, async () => {
      const message = base64Decode(fixture.messageBase64)
      const signature = base64Decode(fixture.signatureBase64)
      expect(parseDidKey(fixture.publicKeyDid).jwtAlg).toBe(fixture.algorithm)
      expect(await verifySignature(fixture.publicKeyDid, message, signature)).toBe(
        fixture.validSignature,
      )
      // High-S is only a policy rejection; DER stays invalid even when malleability is allowed.
      expect(
        await verifySignature(fixture.publicKeyDid, message, signature, { allowMalleable: true }),
      ).toBe(!fixture.tags.includes('der-encoded'))
    })

    it(`${fixture.comment}: legacy ${fixture.didDocSuite} maps to the same did:key`, () => {
      const didKey = didKeyFromVerificationMethod({
        type: fixture.didDocSuite,
        publicKeyMultibase: fixture.publicKeyMultibase,
      })
      expect(didKey).toBe(fixture.publicKeyDid)
    })
  }

  it('covers the valid, high-s and der-encoded cases', () => {
    const tags = signatureFixtures.map((f) => f.tags.join(',') || 'valid').sort()
    expect(tags).toEqual(['der-encoded', 'der-encoded', 'high-s', 'high-s', 'valid', 'valid'])
  })
})

describe('interop w3c did:key vectors', () => {
  expect(k256DidKeys.length).toBe(5)
  expect(p256DidKeys.length).toBe(1)
  for (const { privateKeyBytesHex, publicDidKey } of k256DidKeys) {
    it(`K-256 ${publicDidKey}`, async () => {
      const keypair = await Secp256k1Keypair.import(privateKeyBytesHex)
      expect(keypair.did()).toBe(publicDidKey)
      expect(toHex(keypair.exportPrivateKey())).toBe(privateKeyBytesHex)
      const parsed = parseDidKey(publicDidKey)
      expect(parsed.jwtAlg).toBe('ES256K')
      expect(parsed.publicKey).toEqual(keypair.publicKeyBytes())
    })
  }
  for (const { privateKeyBytesBase58, publicDidKey } of p256DidKeys) {
    it(`P-256 ${publicDidKey}`, async () => {
      const privateKey = base58btc.baseDecode(privateKeyBytesBase58)
      const keypair = await P256Keypair.import(privateKey)
      expect(keypair.did()).toBe(publicDidKey)
      expect(parseDidKey(publicDidKey)).toEqual({
        jwtAlg: 'ES256',
        publicKey: keypair.publicKeyBytes(),
      })
    })
  }
})

describe('isValidDidKey', () => {
  it('accepts supported keys and refuses anything else without throwing', () => {
    for (const { publicDidKey } of [...k256DidKeys, ...p256DidKeys]) {
      expect(isValidDidKey(publicDidKey)).toBe(true)
    }
    const valid = k256DidKeys[0]!.publicDidKey
    for (const bad of [
      '',
      'did:key:zzzz',
      'did:key:',
      'did:plc:abc',
      valid.slice(0, -1),
      'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    ]) {
      expect(isValidDidKey(bad)).toBe(false)
    }
  })
})

describe.each([
  ['ES256K', Secp256k1Keypair],
  ['ES256', P256Keypair],
] as const)('%s keypair', (alg, Keypair) => {
  const message = new TextEncoder().encode('hello atproto')

  it('signs and verifies, and other keys or messages fail', async () => {
    const keypair: Keypair = await Keypair.create()
    const other = await Keypair.create()
    expect(keypair.jwtAlg).toBe(alg)
    expect(keypair.publicKeyBytes()).toHaveLength(33)
    expect(keypair.exportPrivateKey()).toHaveLength(32)
    const signature = await keypair.sign(message)
    expect(signature).toHaveLength(64)
    expect(await verifySignature(keypair.did(), message, signature)).toBe(true)
    expect(await verifySignature(other.did(), message, signature)).toBe(false)
    const tampered = Uint8Array.from(message)
    tampered[0]! ^= 1
    expect(await verifySignature(keypair.did(), tampered, signature)).toBe(false)
    const corrupted = Uint8Array.from(signature)
    corrupted[10]! ^= 1
    expect(await verifySignature(keypair.did(), message, corrupted)).toBe(false)
  })

  it('signs SHA-256 of the message (not a double hash)', async () => {
    const keypair = await Keypair.create()
    const signature = await keypair.sign(message)
    const curve = CURVES[alg]
    expect(
      curve.verify(signature, sha256(message), keypair.publicKeyBytes(), { prehash: false }),
    ).toBe(true)
  })

  it('round-trips export/import, bytes and hex', async () => {
    const keypair = await Keypair.create()
    const privateKey = keypair.exportPrivateKey()
    expect((await Keypair.import(privateKey)).did()).toBe(keypair.did())
    expect((await Keypair.import(toHex(privateKey))).did()).toBe(keypair.did())
    // Exported bytes are a copy: mutating them does not change the keypair.
    privateKey.fill(0)
    expect(keypair.exportPrivateKey()).not.toEqual(privateKey)
  })

  it('rejects bad private keys', async () => {
    await expect(Keypair.import(new Uint8Array(31))).rejects.toThrow(PrivateKeyError)
    await expect(Keypair.import(new Uint8Array(32))).rejects.toThrow(/out of range/)
    await expect(Keypair.import('zz'.repeat(32))).rejects.toThrow(/hex/)
    await expect(Keypair.import(new Uint8Array(32).fill(0xff))).rejects.toThrow(PrivateKeyError)
  })

  it('always produces low-S signatures (200 random messages)', async () => {
    const keypair = await Keypair.create()
    const curve = CURVES[alg]
    const halfOrder = curve.Point.Fn.ORDER >> 1n
    for (let i = 0; i < 200; i++) {
      const signature = await keypair.sign(randomBytes(1 + (i % 64)))
      const { s } = curve.Signature.fromBytes(signature, 'compact')
      expect(s <= halfOrder).toBe(true)
    }
  })

  it('rejects high-S unless allowMalleable, and rejects DER and odd lengths', async () => {
    const keypair = await Keypair.create()
    const signature = await keypair.sign(message)
    const highS = flipS(alg, signature)
    expect(await verifySignature(keypair.did(), message, highS)).toBe(false)
    expect(await verifySignature(keypair.did(), message, highS, { allowMalleable: true })).toBe(
      true,
    )
    const der = CURVES[alg].Signature.fromBytes(signature, 'compact').toBytes('der')
    expect(await verifySignature(keypair.did(), message, der)).toBe(false)
    expect(await verifySignature(keypair.did(), message, new Uint8Array(0))).toBe(false)
    expect(await verifySignature(keypair.did(), message, new Uint8Array(64))).toBe(false)
    expect(await verifySignature(keypair.did(), message, signature.subarray(0, 63))).toBe(false)
  })

  it('interoperates with @atproto/crypto in both directions', async () => {
    const ours = await Keypair.create()
    const ourSignature = await ours.sign(message)
    expect(await reference.verifySignature(ours.did(), message, ourSignature)).toBe(true)

    const ReferenceKeypair = alg === 'ES256K' ? reference.Secp256k1Keypair : reference.P256Keypair
    const theirs = await ReferenceKeypair.create({ exportable: true })
    const theirSignature = await theirs.sign(message)
    expect(await verifySignature(theirs.did(), message, theirSignature)).toBe(true)
    const imported = await Keypair.import(await theirs.export())
    expect(imported.did()).toBe(theirs.did())
  })

  it('legacy verification methods (compressed or uncompressed) map to the did:key', async () => {
    const keypair = await Keypair.create()
    const compressed = keypair.publicKeyBytes()
    const uncompressed = CURVES[alg].Point.fromBytes(compressed).toBytes(false)
    const type =
      alg === 'ES256K' ? 'EcdsaSecp256k1VerificationKey2019' : 'EcdsaSecp256r1VerificationKey2019'
    for (const key of [compressed, uncompressed]) {
      const publicKeyMultibase = base58btc.encode(key)
      expect(didKeyFromVerificationMethod({ type, publicKeyMultibase })).toBe(keypair.did())
    }
    const multikey = keypair.did().slice('did:key:'.length)
    expect(didKeyFromVerificationMethod({ type: 'Multikey', publicKeyMultibase: multikey })).toBe(
      keypair.did(),
    )
  })

  it('formats and parses multikeys, compressing uncompressed input', async () => {
    const keypair = await Keypair.create()
    const compressed = keypair.publicKeyBytes()
    const uncompressed = CURVES[alg].Point.fromBytes(compressed).toBytes(false)
    const multikey = formatMultikey(alg, uncompressed)
    expect(multikey).toBe(formatMultikey(alg, compressed))
    expect(multikey.startsWith(alg === 'ES256K' ? 'zQ3s' : 'zDna')).toBe(true)
    expect(parseMultikey(multikey)).toEqual({ jwtAlg: alg, publicKey: compressed })
    expect(`did:key:${multikey}`).toBe(keypair.did())
    expect(formatDidKey(alg, uncompressed)).toBe(keypair.did())
  })
})

describe('did:key errors', () => {
  it('throws DidKeyError on malformed keys, from parse and from verifySignature', async () => {
    const valid = signatureFixtures[0]!.publicKeyDid
    const bad = [
      'did:web:example.com',
      valid.replace('did:key:z', 'did:key:m'),
      'did:key:z0OIl',
      `did:key:${base58btc.encode(new Uint8Array([0xed, 0x01, ...new Uint8Array(32)]))}`,
      `did:key:${base58btc.encode(new Uint8Array([0xe7, 0x01, 2, ...new Uint8Array(31)]))}`,
      `did:key:${base58btc.encode(new Uint8Array([0x80, 0x24, 5, ...new Uint8Array(32)]))}`,
    ]
    for (const didKey of bad) {
      expect(() => parseDidKey(didKey), didKey).toThrow(DidKeyError)
      await expect(verifySignature(didKey, new Uint8Array(), new Uint8Array(64))).rejects.toThrow(
        DidKeyError,
      )
    }
  })

  it('rejects unsupported or incomplete verification methods', () => {
    const { publicKeyMultibase } = signatureFixtures[0]!
    expect(() =>
      didKeyFromVerificationMethod({ type: 'Ed25519VerificationKey2020', publicKeyMultibase }),
    ).toThrow(/unsupported verification method type/)
    expect(() => didKeyFromVerificationMethod({ type: 'Multikey' })).toThrow(
      /no publicKeyMultibase/,
    )
    // The fixture's legacy value has no multicodec prefix, so it is not a valid Multikey.
    expect(() => didKeyFromVerificationMethod({ type: 'Multikey', publicKeyMultibase })).toThrow(
      DidKeyError,
    )
  })
})

describe('sha256 and randomBytes', () => {
  it('sha256 matches known vectors', () => {
    expect(toHex(sha256(new Uint8Array()))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })

  it('randomBytes returns the requested length, including above the 64 KiB chunk', () => {
    expect(randomBytes(0)).toHaveLength(0)
    const big = randomBytes(70_000)
    expect(big).toHaveLength(70_000)
    expect(big.subarray(65_536).some((b) => b !== 0)).toBe(true)
    expect(randomBytes(32)).not.toEqual(randomBytes(32))
  })
})
