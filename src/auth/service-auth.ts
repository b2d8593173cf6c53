/**
 * Inter-service auth JWTs, signed with an account's repo signing key (ES256K or ES256)
 * [spec:xrpc]. Header `{typ: 'JWT', alg}`; payload `{iat, iss, aud, exp, lxm, jti}`.
 *
 * Verification follows the reference xrpc-server: the checks run in its order and fail with
 * its error names (see ServiceAuthError), high-S signatures are accepted, and a signature that
 * fails is retried once against a freshly resolved key in case the issuer rotated it.
 *
 * - `aud` is compared exactly with the accepted audiences. The spec's form is the service DID
 *   with a `#service_id` fragment; a bare DID is the legacy form and not a wildcard, so a
 *   verifier that accepts both lists both.
 * - `iss` is a DID, optionally with a `#fragment` (`did:plc:...#atproto_labeler`); the key
 *   comes from the DID part.
 * - Replay protection is the caller's job: the result carries `jti` and `exp`, so the `jti`
 *   can be remembered until `exp`.
 */

import { bytesToHex } from '@noble/hashes/utils.js'
import { parseDidKey } from '../crypto/did-key.ts'
import { DidKeyError } from '../crypto/errors.ts'
import type { Keypair } from '../crypto/keypair.ts'
import { randomBytes } from '../crypto/random.ts'
import { verifySignatureWithKey } from '../crypto/verify.ts'
import { isValidDid } from '../syntax/did.ts'
import { JwtFormatError, ServiceAuthError } from './errors.ts'
import { epochSeconds, isNumericDate, joinJwt, jwtSigningInput, parseJwt } from './jwt.ts'

export const SERVICE_AUTH_DEFAULT_LIFETIME_SECONDS = 60

/** Token types that must never pass as service auth (session and DPoP tokens). */
const REFUSED_TYPES = new Set(['at+jwt', 'refresh+jwt', 'dpop+jwt'])
const SIGNING_KEY_ID = '#atproto'

export interface CreateServiceAuthTokenOptions {
  /** The account DID the token speaks for. */
  iss: string
  /** The service it is for, normally `did:...#service_id`. */
  aud: string
  /** The NSID of the one method it may call; null for a token not bound to a method. */
  lxm: string | null
  keypair: Keypair
  expiresInSeconds?: number
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number
}

export interface ResolveSigningKeyOptions {
  /** Set on the retry after a failed signature: bypass any cached DID document. */
  forceRefresh: boolean
}

/** Returns the issuer's current atproto signing key as a did:key. */
export type ResolveSigningKey = (did: string, opts: ResolveSigningKeyOptions) => Promise<string>

export interface VerifyServiceAuthOptions {
  /** The audiences this service answers to; `aud` must equal one of them exactly. */
  audience: string | readonly string[]
  /** The NSID the token must be bound to, or null to accept any (or none). */
  lxm: string | null
  resolveSigningKey: ResolveSigningKey
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number
}

export interface ServiceAuthClaims {
  /** As in the token, fragment included. */
  iss: string
  /** The DID part of `iss`, whose key signed the token. */
  issDid: string
  aud: string
  exp: number
  iat: number | null
  lxm: string | null
  /** Null when the issuer sent none (older implementations); the caller decides. */
  jti: string | null
}

export async function createServiceAuthToken(opts: CreateServiceAuthTokenOptions): Promise<string> {
  const iat = epochSeconds(opts.now)
  const payload: Record<string, unknown> = {
    iat,
    iss: opts.iss,
    aud: opts.aud,
    exp: iat + (opts.expiresInSeconds ?? SERVICE_AUTH_DEFAULT_LIFETIME_SECONDS),
  }
  if (opts.lxm !== null) payload.lxm = opts.lxm
  payload.jti = bytesToHex(randomBytes(16))
  const input = jwtSigningInput({ typ: 'JWT', alg: opts.keypair.jwtAlg }, payload)
  const signature = await opts.keypair.sign(new TextEncoder().encode(input))
  return joinJwt(input, signature)
}

export async function verifyServiceAuthToken(
  token: string,
  opts: VerifyServiceAuthOptions,
): Promise<ServiceAuthClaims> {
  let parsed: ReturnType<typeof parseJwt>
  try {
    parsed = parseJwt(token)
  } catch (err) {
    if (err instanceof JwtFormatError) throw badJwt()
    throw err
  }
  const { header, payload, signingInput, signature } = parsed

  if (typeof header.typ === 'string' && REFUSED_TYPES.has(header.typ)) {
    throw new ServiceAuthError('BadJwtType', `Invalid jwt type "${header.typ}"`)
  }
  const { iss, aud, exp, iat, lxm, jti } = payload
  if (typeof iss !== 'string' || typeof aud !== 'string' || !isNumericDate(exp)) throw badJwt()
  if (iat !== undefined && !isNumericDate(iat)) throw badJwt()
  if (lxm !== undefined && typeof lxm !== 'string') throw badJwt()
  if (jti !== undefined && typeof jti !== 'string') throw badJwt()

  if (epochSeconds(opts.now) >= exp) throw new ServiceAuthError('JwtExpired', 'jwt expired')
  const audiences = typeof opts.audience === 'string' ? [opts.audience] : opts.audience
  if (!audiences.includes(aud)) {
    throw new ServiceAuthError('BadJwtAudience', 'jwt audience does not match service did')
  }
  if (opts.lxm !== null && lxm !== opts.lxm) {
    throw new ServiceAuthError(
      'BadJwtLexiconMethod',
      `${lxm === undefined ? 'missing' : 'bad'} jwt lexicon method ("lxm"). must match: ${opts.lxm}`,
    )
  }
  const issDid = didOfIssuer(iss)
  if (issDid === null) throw new ServiceAuthError('BadJwtIss', 'jwt iss is not a valid did')
  if (header.alg !== 'ES256K' && header.alg !== 'ES256') throw badJwt()
  if (
    header.kid !== undefined &&
    header.kid !== SIGNING_KEY_ID &&
    header.kid !== issDid + SIGNING_KEY_ID
  ) {
    throw badJwt()
  }

  const check = async (didKey: string): Promise<boolean> => {
    let key: ReturnType<typeof parseDidKey>
    try {
      key = parseDidKey(didKey)
    } catch (err) {
      if (err instanceof DidKeyError) {
        throw new ServiceAuthError('BadJwtSignature', 'could not verify jwt signature')
      }
      throw err
    }
    if (key.jwtAlg !== header.alg) return false
    return verifySignatureWithKey(key, signingInput, signature, { allowMalleable: true })
  }
  const key = await opts.resolveSigningKey(issDid, { forceRefresh: false })
  if (!(await check(key))) {
    const freshKey = await opts.resolveSigningKey(issDid, { forceRefresh: true })
    if (freshKey === key || !(await check(freshKey))) {
      throw new ServiceAuthError('BadJwtSignature', 'jwt signature does not match jwt issuer')
    }
  }

  return {
    iss,
    issDid,
    aud,
    exp,
    iat: isNumericDate(iat) ? iat : null,
    lxm: typeof lxm === 'string' ? lxm : null,
    jti: typeof jti === 'string' ? jti : null,
  }
}

/** `did:...` or `did:...#fragment` (one non-empty fragment); returns the DID part. */
function didOfIssuer(iss: string): string | null {
  const hash = iss.indexOf('#')
  const did = hash === -1 ? iss : iss.slice(0, hash)
  if (hash !== -1) {
    const fragment = iss.slice(hash + 1)
    if (fragment.length === 0 || fragment.includes('#')) return null
  }
  return isValidDid(did) ? did : null
}

function badJwt(): ServiceAuthError {
  return new ServiceAuthError('BadJwt', 'poorly formatted jwt')
}
