import { describe, expect, it } from 'vitest'
import {
  checkAdminBasicAuth,
  createAccessToken,
  createRefreshToken,
  createServiceAuthToken,
  decryptPrivateKey,
  encryptPrivateKey,
  hashPassword,
  KeyDecryptionError,
  TokenError,
  verifyAccessToken,
  verifyPassword,
  verifyRefreshToken,
  verifyServiceAuthToken,
} from '../../src/auth/index.ts'
import { P256Keypair, Secp256k1Keypair } from '../../src/crypto/index.ts'

const SERVICE = 'did:web:localhost'
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

describe('auth primitives in workerd', () => {
  it('issues and verifies session tokens with crypto.subtle HMAC', async () => {
    const secret = 'test-jwt-secret'
    const access = await createAccessToken({ did: DID, serviceDid: SERVICE, secret })
    const refresh = await createRefreshToken({ did: DID, serviceDid: SERVICE, secret })
    const opts = { secret, serviceDid: SERVICE }
    expect((await verifyAccessToken(access.jwt, opts)).sub).toBe(DID)
    expect((await verifyRefreshToken(refresh.jwt, opts)).jti).toBe(refresh.payload.jti)
    await expect(verifyRefreshToken(access.jwt, opts)).rejects.toBeInstanceOf(TokenError)
    await expect(verifyAccessToken(access.jwt, { ...opts, secret: 'x' })).rejects.toBeInstanceOf(
      TokenError,
    )
  })

  it('signs and verifies service auth on both curves', async () => {
    for (const keypair of [await Secp256k1Keypair.create(), await P256Keypair.create()]) {
      const token = await createServiceAuthToken({
        iss: DID,
        aud: `${SERVICE}#atproto_pds`,
        lxm: 'com.atproto.repo.createRecord',
        keypair,
      })
      const claims = await verifyServiceAuthToken(token, {
        audience: `${SERVICE}#atproto_pds`,
        lxm: 'com.atproto.repo.createRecord',
        resolveSigningKey: async () => keypair.did(),
      })
      expect(claims.iss).toBe(DID)
    }
  })

  it('encrypts signing keys with HKDF + AES-GCM', async () => {
    const keypair = await Secp256k1Keypair.create()
    const encoded = await encryptPrivateKey(keypair.exportPrivateKey(), 'test-secret', DID)
    expect(await decryptPrivateKey(encoded, 'test-secret', DID)).toEqual(keypair.exportPrivateKey())
    await expect(decryptPrivateKey(encoded, 'wrong-secret', DID)).rejects.toBeInstanceOf(
      KeyDecryptionError,
    )
  })

  it('checks admin basic auth', () => {
    expect(checkAdminBasicAuth(`Basic ${btoa('admin:pw')}`, 'pw')).toBe(true)
    expect(checkAdminBasicAuth(`Basic ${btoa('admin:pw2')}`, 'pw')).toBe(false)
  })

  it('hashes and verifies passwords', async () => {
    const stored = await hashPassword('hunter2', { N: 2 ** 10, r: 8, p: 1 })
    expect(await verifyPassword('hunter2', stored)).toBe(true)
    expect(await verifyPassword('hunter3', stored)).toBe(false)
  })
})
