import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ACCESS_TOKEN_LIFETIME_SECONDS,
  createAccessToken,
  createRefreshToken,
  REFRESH_TOKEN_LIFETIME_SECONDS,
  SCOPE_APP_PASS,
  SCOPE_APP_PASS_PRIVILEGED,
  SCOPE_TAKENDOWN,
  TokenError,
  type TokenErrorCode,
  verifyAccessToken,
  verifyRefreshToken,
} from '../../src/auth/index.ts'

const SECRET = 'test-jwt-secret'
const SERVICE = 'did:web:pds.example.com'
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0)
const opts = { secret: SECRET, serviceDid: SERVICE, now: NOW }

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  )
}

/** Builds an HS256-signed token by hand (node:crypto), to forge whatever the test needs. */
function handMade(header: object, payload: object, secret = SECRET): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

function decodePart(jwt: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[index]!, 'base64url').toString('utf8'))
}

function accessPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(NOW / 1000)
  return { scope: 'com.atproto.access', sub: DID, aud: SERVICE, iat, exp: iat + 60, ...overrides }
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TokenError)
  return err as TokenError
}

async function expectCode(promise: Promise<unknown>, code: TokenErrorCode): Promise<void> {
  expect((await rejection(promise)).code).toBe(code)
}

describe('access tokens', () => {
  it('round-trips with the reference header and claims', async () => {
    const { jwt, payload } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    const iat = Math.floor(NOW / 1000)
    expect(payload).toEqual({
      scope: 'com.atproto.access',
      sub: DID,
      aud: SERVICE,
      iat,
      exp: iat + ACCESS_TOKEN_LIFETIME_SECONDS,
    })
    expect(ACCESS_TOKEN_LIFETIME_SECONDS).toBe(2 * 60 * 60)
    expect(decodePart(jwt, 0)).toEqual({ typ: 'at+jwt', alg: 'HS256' })
    expect(decodePart(jwt, 1)).toEqual(payload)
    expect(await verifyAccessToken(jwt, opts)).toEqual(payload)
  })

  it('is a standard HS256 JWS keyed with the UTF-8 secret', async () => {
    const { jwt } = await createAccessToken({ did: DID, serviceDid: SERVICE, secret: SECRET })
    const [header, payload, signature] = jwt.split('.')
    const expected = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url')
    expect(signature).toBe(expected)
    // and a token made by any other HS256 implementation verifies
    expect(
      (await verifyAccessToken(handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload()), opts))
        .sub,
    ).toBe(DID)
  })

  it('carries app-password and takendown scopes', async () => {
    for (const scope of [SCOPE_APP_PASS, SCOPE_APP_PASS_PRIVILEGED, SCOPE_TAKENDOWN] as const) {
      const appPassword = scope === SCOPE_TAKENDOWN ? undefined : 'my phone'
      const { jwt } = await createAccessToken({
        did: DID,
        serviceDid: SERVICE,
        secret: SECRET,
        scope,
        appPassword,
        now: NOW,
      })
      const verified = await verifyAccessToken(jwt, opts)
      expect(verified.scope).toBe(scope)
      expect(verified.appPassword).toBe(appPassword)
    }
  })

  it('refuses an app-password token that does not name its app password', async () => {
    const { jwt } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      scope: SCOPE_APP_PASS,
      now: NOW,
    })
    await expect(verifyAccessToken(jwt, opts)).rejects.toMatchObject({ code: 'InvalidToken' })
  })

  it('honours expiresInSeconds', async () => {
    const { payload } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      expiresInSeconds: 30,
      now: NOW,
    })
    expect(payload.exp - payload.iat).toBe(30)
  })

  it('rejects an unknown scope, even correctly signed', async () => {
    const token = handMade(
      { alg: 'HS256', typ: 'at+jwt' },
      accessPayload({ scope: 'com.atproto.admin' }),
    )
    expect((await rejection(verifyAccessToken(token, opts))).message).toBe('Bad token scope')
    const noScope = handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ scope: undefined }))
    await expectCode(verifyAccessToken(noScope, opts), 'InvalidToken')
  })

  it('rejects a token signed with another secret', async () => {
    const { jwt } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: 'other-secret',
      now: NOW,
    })
    await expectCode(verifyAccessToken(jwt, opts), 'InvalidToken')
  })

  it('rejects a token whose payload was changed after signing', async () => {
    const { jwt } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    const [header, , signature] = jwt.split('.')
    const forged = `${header}.${b64url(accessPayload({ sub: 'did:plc:attackerattackerattacker' }))}.${signature}`
    await expectCode(verifyAccessToken(forged, opts), 'InvalidToken')
  })

  it('rejects alg none and every algorithm other than HS256', async () => {
    const payload = accessPayload()
    const none = `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(payload)}.`
    await expectCode(verifyAccessToken(none, opts), 'InvalidToken')
    // alg none with a signature present, and the same with a valid HMAC under the secret
    for (const alg of ['none', 'None', 'HS384', 'HS512', 'ES256K', 'RS256', undefined]) {
      const token = handMade({ alg, typ: 'at+jwt' }, payload)
      const err = await rejection(verifyAccessToken(token, opts))
      expect(err.code).toBe('InvalidToken')
    }
  })

  it('rejects a refresh token used as an access token', async () => {
    const { jwt } = await createRefreshToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    const err = await rejection(verifyAccessToken(jwt, opts))
    expect(err.code).toBe('InvalidToken')
    expect(err.message).toBe('Invalid token type')
  })

  it('rejects other or missing typ values', async () => {
    for (const typ of ['JWT', 'dpop+jwt', undefined]) {
      const token = handMade({ alg: 'HS256', typ }, accessPayload())
      await expectCode(verifyAccessToken(token, opts), 'InvalidToken')
    }
  })

  it('expires at exp (injected clock) with ExpiredToken', async () => {
    const { jwt, payload } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    const lastValid = payload.exp * 1000 - 1
    expect((await verifyAccessToken(jwt, { ...opts, now: lastValid })).sub).toBe(DID)
    const err = await rejection(verifyAccessToken(jwt, { ...opts, now: payload.exp * 1000 }))
    expect(err.code).toBe('ExpiredToken')
    expect(err.message).toBe('Token has expired')
  })

  it('reports an expired forgery as invalid, not expired', async () => {
    const { jwt, payload } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: 'other',
      now: NOW,
    })
    await expectCode(
      verifyAccessToken(jwt, { ...opts, now: (payload.exp + 10) * 1000 }),
      'InvalidToken',
    )
  })

  it('rejects a token issued for another service', async () => {
    const { jwt } = await createAccessToken({
      did: DID,
      serviceDid: 'did:web:other-pds.example.com',
      secret: SECRET,
      now: NOW,
    })
    const err = await rejection(verifyAccessToken(jwt, opts))
    expect(err.code).toBe('InvalidToken')
    expect(err.message).toContain('another service')
    const noAud = handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ aud: undefined }))
    await expectCode(verifyAccessToken(noAud, opts), 'InvalidToken')
  })

  it('rejects malformed tokens', async () => {
    const good = (
      await createAccessToken({ did: DID, serviceDid: SERVICE, secret: SECRET, now: NOW })
    ).jwt
    const [h, p, s] = good.split('.') as [string, string, string]
    const cases = [
      '',
      'abc',
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}..${s}`,
      `${h}.${p}.`,
      `${h}.${b64url('not json')}.${s}`,
      `${h}.${b64url([1, 2])}.${s}`,
      `${h}.${b64url('null')}.${s}`,
      `${h}.${p}.${s}!`,
      `${h}=.${p}.${s}`,
      `${'a'.repeat(20_000)}.${p}.${s}`,
      handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ exp: undefined })),
      handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ exp: '9999999999' })),
      handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ iat: undefined })),
      handMade({ alg: 'HS256', typ: 'at+jwt' }, accessPayload({ sub: 'alice.example.com' })),
      handMade({ alg: 'HS256', typ: 'at+jwt', crit: ['exp'] }, accessPayload()),
    ]
    for (const token of cases) {
      await expectCode(verifyAccessToken(token, opts), 'InvalidToken')
    }
    await expectCode(verifyAccessToken(42 as unknown as string, opts), 'InvalidToken')
  })

  it('rejects a signature spelled in non-canonical base64url', async () => {
    const good = (
      await createAccessToken({ did: DID, serviceDid: SERVICE, secret: SECRET, now: NOW })
    ).jwt
    const [h, p, s] = good.split('.') as [string, string, string]
    // The last character of a 32-byte HMAC has 2 unused bits; flipping one keeps the bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const altered = s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1)!) ^ 1]
    expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
    await expectCode(verifyAccessToken(`${h}.${p}.${altered}`, opts), 'InvalidToken')
  })
})

describe('refresh tokens', () => {
  it('round-trips with a random jti and a 90-day lifetime', async () => {
    const { jwt, payload } = await createRefreshToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    expect(REFRESH_TOKEN_LIFETIME_SECONDS).toBe(90 * 24 * 60 * 60)
    expect(payload.exp - payload.iat).toBe(REFRESH_TOKEN_LIFETIME_SECONDS)
    expect(payload.scope).toBe('com.atproto.refresh')
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(decodePart(jwt, 0)).toEqual({ typ: 'refresh+jwt', alg: 'HS256' })
    expect(await verifyRefreshToken(jwt, opts)).toEqual(payload)
    const other = await createRefreshToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    expect(other.payload.jti).not.toBe(payload.jti)
  })

  it('keeps a given jti', async () => {
    const { jwt } = await createRefreshToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      jti: 'row-1',
      now: NOW,
    })
    expect((await verifyRefreshToken(jwt, opts)).jti).toBe('row-1')
  })

  it('rejects an access token used as a refresh token', async () => {
    const { jwt } = await createAccessToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    const err = await rejection(verifyRefreshToken(jwt, opts))
    expect(err.code).toBe('InvalidToken')
    expect(err.message).toBe('Invalid token type')
  })

  it('rejects a refresh+jwt with the wrong scope or no jti', async () => {
    const iat = Math.floor(NOW / 1000)
    const base = {
      scope: 'com.atproto.refresh',
      sub: DID,
      aud: SERVICE,
      jti: 'x',
      iat,
      exp: iat + 60,
    }
    const header = { alg: 'HS256', typ: 'refresh+jwt' }
    expect((await verifyRefreshToken(handMade(header, base), opts)).jti).toBe('x')
    await expectCode(
      verifyRefreshToken(handMade(header, { ...base, scope: 'com.atproto.access' }), opts),
      'InvalidToken',
    )
    await expectCode(
      verifyRefreshToken(handMade(header, { ...base, jti: undefined }), opts),
      'InvalidToken',
    )
    await expectCode(
      verifyRefreshToken(handMade(header, { ...base, jti: '' }), opts),
      'InvalidToken',
    )
  })

  it('expires, fails on a bad signature and on another audience', async () => {
    const { jwt, payload } = await createRefreshToken({
      did: DID,
      serviceDid: SERVICE,
      secret: SECRET,
      now: NOW,
    })
    await expectCode(verifyRefreshToken(jwt, { ...opts, now: payload.exp * 1000 }), 'ExpiredToken')
    await expectCode(verifyRefreshToken(jwt, { ...opts, secret: 'other' }), 'InvalidToken')
    await expectCode(
      verifyRefreshToken(jwt, { ...opts, serviceDid: 'did:web:elsewhere.example' }),
      'InvalidToken',
    )
  })
})
