import * as reference from '@atproto/crypto'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { describe, expect, it, vi } from 'vitest'
import {
  createServiceAuthToken,
  type ResolveSigningKey,
  ServiceAuthError,
  type ServiceAuthErrorCode,
  verifyServiceAuthToken,
} from '../../src/auth/index.ts'
import { type Keypair, P256Keypair, Secp256k1Keypair } from '../../src/crypto/index.ts'

const ISS = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const AUD = 'did:web:api.bsky.app#bsky_appview'
const LXM = 'app.bsky.feed.getFeedSkeleton'
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0)

const CURVES = { ES256K: secp256k1, ES256: p256 } as const

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function decodePart(jwt: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[index]!, 'base64url').toString('utf8'))
}

/** A resolver stub that always answers `didKey` and records its calls. */
function resolverFor(didKey: string): ResolveSigningKey & ReturnType<typeof vi.fn> {
  return vi.fn(async () => didKey)
}

/** Signs any header and payload with `signer` (ours or the reference's keypair). */
async function handMade(
  header: object,
  payload: object,
  signer: { sign(msg: Uint8Array): Promise<Uint8Array> },
): Promise<string> {
  const input = `${b64url(header)}.${b64url(payload)}`
  const sig = await signer.sign(new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(NOW / 1000)
  return { iat, iss: ISS, aud: AUD, exp: iat + 60, lxm: LXM, jti: 'abc', ...overrides }
}

async function rejection(promise: Promise<unknown>): Promise<ServiceAuthError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ServiceAuthError)
  return err as ServiceAuthError
}

async function expectCode(promise: Promise<unknown>, code: ServiceAuthErrorCode): Promise<void> {
  expect((await rejection(promise)).code).toBe(code)
}

const keypairs: [string, () => Promise<Keypair>][] = [
  ['ES256K', () => Secp256k1Keypair.create()],
  ['ES256', () => P256Keypair.create()],
]

describe.each(keypairs)('service auth with %s', (alg, create) => {
  it('round-trips against a key resolved by a stub', async () => {
    const keypair = await create()
    const token = await createServiceAuthToken({ iss: ISS, aud: AUD, lxm: LXM, keypair, now: NOW })
    expect(decodePart(token, 0)).toEqual({ typ: 'JWT', alg })
    const payload = decodePart(token, 1)
    const iat = Math.floor(NOW / 1000)
    expect(payload).toEqual({
      iat,
      iss: ISS,
      aud: AUD,
      exp: iat + 60,
      lxm: LXM,
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
    })

    const resolve = resolverFor(keypair.did())
    const result = await verifyServiceAuthToken(token, {
      audience: AUD,
      lxm: LXM,
      resolveSigningKey: resolve,
      now: NOW,
    })
    expect(result).toEqual({
      iss: ISS,
      issDid: ISS,
      aud: AUD,
      exp: iat + 60,
      iat,
      lxm: LXM,
      jti: payload.jti,
    })
    expect(resolve).toHaveBeenCalledTimes(1)
    expect(resolve).toHaveBeenCalledWith(ISS, { forceRefresh: false })
  })

  it('signs what @atproto/crypto verifies, and verifies what it signs', async () => {
    const keypair = await create()
    const token = await createServiceAuthToken({ iss: ISS, aud: AUD, lxm: LXM, keypair, now: NOW })
    const [h, p, s] = token.split('.') as [string, string, string]
    const input = new TextEncoder().encode(`${h}.${p}`)
    expect(await reference.verifySignature(keypair.did(), input, Buffer.from(s, 'base64url'))).toBe(
      true,
    )

    const theirs =
      alg === 'ES256K'
        ? await reference.Secp256k1Keypair.create()
        : await reference.P256Keypair.create()
    const theirToken = await handMade({ typ: 'JWT', alg }, claims(), theirs)
    const result = await verifyServiceAuthToken(theirToken, {
      audience: AUD,
      lxm: LXM,
      resolveSigningKey: resolverFor(theirs.did()),
      now: NOW,
    })
    expect(result.jti).toBe('abc')
  })

  it('accepts a high-S (malleable) signature, as the reference does for service auth', async () => {
    const keypair = await create()
    const token = await createServiceAuthToken({ iss: ISS, aud: AUD, lxm: LXM, keypair, now: NOW })
    const [h, p, s] = token.split('.') as [string, string, string]
    const curve = CURVES[alg as 'ES256K' | 'ES256']
    const sig = curve.Signature.fromBytes(Buffer.from(s, 'base64url'), 'compact')
    const highS = new curve.Signature(sig.r, curve.Point.Fn.ORDER - sig.s).toBytes('compact')
    const malleable = `${h}.${p}.${Buffer.from(highS).toString('base64url')}`
    const input = new TextEncoder().encode(`${h}.${p}`)
    expect(await reference.verifySignature(keypair.did(), input, highS)).toBe(false)
    const result = await verifyServiceAuthToken(malleable, {
      audience: AUD,
      lxm: LXM,
      resolveSigningKey: resolverFor(keypair.did()),
      now: NOW,
    })
    expect(result.iss).toBe(ISS)
  })
})

describe('service auth verification', () => {
  async function setup(
    overrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ) {
    const keypair = await Secp256k1Keypair.create()
    const token = await handMade(
      { typ: 'JWT', alg: 'ES256K', ...header },
      claims(overrides),
      keypair,
    )
    const resolve = resolverFor(keypair.did())
    const base = { audience: AUD, lxm: LXM, resolveSigningKey: resolve, now: NOW }
    return { keypair, token, resolve, base }
  }

  it('rejects a forged signature after retrying once with a fresh key', async () => {
    const signer = await Secp256k1Keypair.create()
    const published = await Secp256k1Keypair.create()
    const token = await createServiceAuthToken({
      iss: ISS,
      aud: AUD,
      lxm: LXM,
      keypair: signer,
      now: NOW,
    })
    const resolve = vi.fn<ResolveSigningKey>(async (_did, { forceRefresh }) =>
      forceRefresh ? (await Secp256k1Keypair.create()).did() : published.did(),
    )
    const err = await rejection(
      verifyServiceAuthToken(token, {
        audience: AUD,
        lxm: LXM,
        resolveSigningKey: resolve,
        now: NOW,
      }),
    )
    expect(err.code).toBe('BadJwtSignature')
    expect(resolve.mock.calls).toEqual([
      [ISS, { forceRefresh: false }],
      [ISS, { forceRefresh: true }],
    ])
  })

  it('does not verify twice when the refreshed key is the same', async () => {
    const { resolve, base } = await setup()
    const other = await Secp256k1Keypair.create()
    const token = await handMade({ typ: 'JWT', alg: 'ES256K' }, claims(), other)
    await expectCode(verifyServiceAuthToken(token, base), 'BadJwtSignature')
    expect(resolve).toHaveBeenCalledTimes(2)
  })

  it('accepts a token signed with a just-rotated key once the cache is bypassed', async () => {
    const stale = await Secp256k1Keypair.create()
    const current = await Secp256k1Keypair.create()
    const token = await createServiceAuthToken({
      iss: ISS,
      aud: AUD,
      lxm: LXM,
      keypair: current,
      now: NOW,
    })
    const resolve = vi.fn<ResolveSigningKey>(async (_did, { forceRefresh }) =>
      forceRefresh ? current.did() : stale.did(),
    )
    const result = await verifyServiceAuthToken(token, {
      audience: AUD,
      lxm: LXM,
      resolveSigningKey: resolve,
      now: NOW,
    })
    expect(result.iss).toBe(ISS)
    expect(resolve).toHaveBeenCalledTimes(2)
  })

  it('rejects session and DPoP token types', async () => {
    for (const typ of ['at+jwt', 'refresh+jwt', 'dpop+jwt']) {
      const { token, base, resolve } = await setup({}, { typ })
      const err = await rejection(verifyServiceAuthToken(token, base))
      expect(err.code).toBe('BadJwtType')
      expect(resolve).not.toHaveBeenCalled()
    }
    const { token, base } = await setup({}, { typ: undefined })
    expect((await verifyServiceAuthToken(token, base)).iss).toBe(ISS)
  })

  it('rejects an expired token (injected clock)', async () => {
    const keypair = await Secp256k1Keypair.create()
    const token = await createServiceAuthToken({
      iss: ISS,
      aud: AUD,
      lxm: LXM,
      keypair,
      now: NOW,
      expiresInSeconds: 30,
    })
    const base = { audience: AUD, lxm: LXM, resolveSigningKey: resolverFor(keypair.did()) }
    expect((await verifyServiceAuthToken(token, { ...base, now: NOW + 29_999 })).exp).toBe(
      Math.floor(NOW / 1000) + 30,
    )
    await expectCode(verifyServiceAuthToken(token, { ...base, now: NOW + 30_000 }), 'JwtExpired')
  })

  it('rejects a token for another service', async () => {
    const { token, base } = await setup({ aud: 'did:web:other.example#bsky_appview' })
    await expectCode(verifyServiceAuthToken(token, base), 'BadJwtAudience')
  })

  it('matches audiences exactly: a bare DID and a DID#service are different audiences', async () => {
    const bare = await setup({ aud: 'did:web:api.bsky.app' })
    await expectCode(verifyServiceAuthToken(bare.token, bare.base), 'BadJwtAudience')
    const both = ['did:web:api.bsky.app', AUD]
    expect((await verifyServiceAuthToken(bare.token, { ...bare.base, audience: both })).aud).toBe(
      'did:web:api.bsky.app',
    )
    const withFragment = await setup()
    await expectCode(
      verifyServiceAuthToken(withFragment.token, {
        ...withFragment.base,
        audience: 'did:web:api.bsky.app',
      }),
      'BadJwtAudience',
    )
    const other = await setup({ aud: 'did:web:api.bsky.app#bsky_chat' })
    await expectCode(
      verifyServiceAuthToken(other.token, { ...other.base, audience: both }),
      'BadJwtAudience',
    )
  })

  it('requires the expected lxm when one is given', async () => {
    const wrong = await setup({ lxm: 'com.atproto.repo.deleteRecord' })
    const err = await rejection(verifyServiceAuthToken(wrong.token, wrong.base))
    expect(err.code).toBe('BadJwtLexiconMethod')
    expect(err.message).toBe(`bad jwt lexicon method ("lxm"). must match: ${LXM}`)

    const missing = await setup({ lxm: undefined })
    const err2 = await rejection(verifyServiceAuthToken(missing.token, missing.base))
    expect(err2.code).toBe('BadJwtLexiconMethod')
    expect(err2.message).toContain('missing')

    expect(
      (await verifyServiceAuthToken(missing.token, { ...missing.base, lxm: null })).lxm,
    ).toBeNull()
    expect((await verifyServiceAuthToken(wrong.token, { ...wrong.base, lxm: null })).lxm).toBe(
      'com.atproto.repo.deleteRecord',
    )
  })

  it('creates method-less tokens when lxm is null', async () => {
    const keypair = await Secp256k1Keypair.create()
    const token = await createServiceAuthToken({ iss: ISS, aud: AUD, lxm: null, keypair, now: NOW })
    expect(decodePart(token, 1)).not.toHaveProperty('lxm')
  })

  it('resolves the key of the DID part of an iss with a service fragment', async () => {
    const { token, base, resolve } = await setup({ iss: `${ISS}#atproto_labeler` })
    const result = await verifyServiceAuthToken(token, base)
    expect(result.iss).toBe(`${ISS}#atproto_labeler`)
    expect(result.issDid).toBe(ISS)
    expect(resolve).toHaveBeenCalledWith(ISS, { forceRefresh: false })
  })

  it('rejects an iss that is not a DID', async () => {
    for (const iss of ['alice.example.com', 'did:plc:', `${ISS}#`, `${ISS}#a#b`]) {
      const { token, base, resolve } = await setup({ iss })
      await expectCode(verifyServiceAuthToken(token, base), 'BadJwtIss')
      expect(resolve).not.toHaveBeenCalled()
    }
  })

  it('rejects a header alg that is not the key type, and non-ECDSA algs', async () => {
    const { keypair, base } = await setup()
    const mislabelled = await handMade({ typ: 'JWT', alg: 'ES256' }, claims(), keypair)
    await expectCode(verifyServiceAuthToken(mislabelled, base), 'BadJwtSignature')
    for (const alg of ['none', 'HS256', 'EdDSA', undefined]) {
      const token = await handMade({ typ: 'JWT', alg }, claims(), keypair)
      await expectCode(verifyServiceAuthToken(token, base), 'BadJwt')
    }
    const none = `${b64url({ typ: 'JWT', alg: 'none' })}.${b64url(claims())}.`
    await expectCode(verifyServiceAuthToken(none, base), 'BadJwt')
  })

  it('accepts only the atproto key id', async () => {
    for (const kid of ['#atproto', `${ISS}#atproto`]) {
      const { token, base } = await setup({}, { kid })
      expect((await verifyServiceAuthToken(token, base)).iss).toBe(ISS)
    }
    const { token, base } = await setup({}, { kid: '#atproto_label' })
    await expectCode(verifyServiceAuthToken(token, base), 'BadJwt')
  })

  it('reports a resolved key it cannot read as an unverifiable signature', async () => {
    const { token, base } = await setup()
    await expectCode(
      verifyServiceAuthToken(token, {
        ...base,
        resolveSigningKey: resolverFor('did:key:zNotAKey'),
      }),
      'BadJwtSignature',
    )
  })

  it('lets resolver errors through', async () => {
    const { token, base } = await setup()
    const untrusted = new Error('untrusted issuer')
    const resolveSigningKey = vi.fn(async () => {
      throw untrusted
    })
    await expect(verifyServiceAuthToken(token, { ...base, resolveSigningKey })).rejects.toBe(
      untrusted,
    )
  })

  it('rejects malformed tokens and claims', async () => {
    const { token, base, keypair } = await setup()
    const [h, p] = token.split('.') as [string, string]
    for (const bad of [
      '',
      'a.b',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}.${b64url([1])}.AAAA`,
      `${token}.x`,
    ]) {
      await expectCode(verifyServiceAuthToken(bad, base), 'BadJwt')
    }
    for (const overrides of [
      { exp: undefined },
      { exp: '1' },
      { iss: 5 },
      { aud: undefined },
      { iat: 'x' },
      { lxm: 1 },
      { jti: 2 },
    ]) {
      const bad = await handMade({ typ: 'JWT', alg: 'ES256K' }, claims(overrides), keypair)
      await expectCode(verifyServiceAuthToken(bad, base), 'BadJwt')
    }
  })

  it('returns a null jti and iat when the issuer sent none', async () => {
    const { token, base } = await setup({ jti: undefined, iat: undefined })
    const result = await verifyServiceAuthToken(token, base)
    expect(result.jti).toBeNull()
    expect(result.iat).toBeNull()
  })
})
