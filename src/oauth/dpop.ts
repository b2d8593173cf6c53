/**
 * DPoP proofs (RFC 9449) as the atproto OAuth profile requires them on PAR, the token
 * endpoint and every resource request: an ES256 JWT of type `dpop+jwt` carrying its public
 * key, for this method (`htm`) and URL (`htu`, without query or fragment), recent (`iat`),
 * with a current server nonce, the access token's hash (`ath`) on resource requests, and a
 * `jti` never seen before.
 */
import { calculateJwkThumbprint, EmbeddedJWK, base64url as joseBase64url, jwtVerify } from 'jose'
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import { claimJti } from '../db/used-jti.ts'
import { isValidDpopNonce } from './dpop-nonce.ts'
import { nowSeconds, PROOF_MAX_AGE, PROOF_MAX_SKEW } from './lifetimes.ts'

export const DPOP_ALGORITHMS = ['ES256']

/** Why a proof was refused: `nonce` asks the client to retry with the nonce we send. */
export class DpopError extends Error {
  override name = 'DpopError'
  readonly kind: 'invalid' | 'nonce' | 'missing'

  constructor(kind: 'invalid' | 'nonce' | 'missing', message: string) {
    super(message)
    this.kind = kind
  }
}

export interface DpopProof {
  /** The key's JWK thumbprint (RFC 7638), which tokens are bound to (`cnf.jkt`). */
  jkt: string
}

export interface DpopCheck {
  db: Db
  config: Config
  /** The URL the proof must name (our public origin and the request's path). */
  htu: string
  /** On resource requests: the access token the proof must hash (`ath`). */
  accessToken?: string
}

export async function verifyDpopProof(request: Request, check: DpopCheck): Promise<DpopProof> {
  const proof = request.headers.get('dpop')
  if (!proof) throw new DpopError('missing', 'A DPoP proof is required')
  // Two DPoP headers arrive joined by a comma, which no JWT contains.
  if (proof.includes(',') || proof.length > 4096) {
    throw new DpopError('invalid', 'Exactly one DPoP proof is expected')
  }
  let payload: Record<string, unknown>
  let jwk: Record<string, unknown>
  try {
    const result = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: DPOP_ALGORITHMS,
    })
    payload = result.payload as Record<string, unknown>
    jwk = result.protectedHeader.jwk as unknown as Record<string, unknown>
  } catch (err) {
    throw new DpopError('invalid', `Invalid DPoP proof: ${(err as Error).message}`)
  }
  if ('d' in jwk) throw new DpopError('invalid', 'The DPoP proof carries a private key')
  if (payload.htm !== request.method) {
    throw new DpopError('invalid', 'The DPoP proof is for another HTTP method (htm)')
  }
  if (typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== normalizeHtu(check.htu)) {
    throw new DpopError('invalid', 'The DPoP proof is for another URL (htu)')
  }
  const now = nowSeconds()
  const iat = payload.iat
  if (typeof iat !== 'number' || iat < now - PROOF_MAX_AGE || iat > now + PROOF_MAX_SKEW) {
    throw new DpopError('invalid', 'The DPoP proof is too old or from the future (iat)')
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
    throw new DpopError('invalid', 'The DPoP proof has no jti')
  }
  if (check.accessToken !== undefined) {
    const expected = joseBase64url.encode(
      new Uint8Array(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(check.accessToken)),
      ),
    )
    if (payload.ath !== expected) {
      throw new DpopError('invalid', 'The DPoP proof is for another access token (ath)')
    }
  }
  if (!isValidDpopNonce(check.config, payload.nonce)) {
    throw new DpopError('nonce', 'A fresh DPoP nonce is required')
  }
  const jkt = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0])
  // Checked last, so a proof refused for its nonce does not burn its jti.
  const fresh = await claimJti(check.db, `dpop:${jkt}:${payload.jti}`, iat + PROOF_MAX_AGE + 60)
  if (!fresh) throw new DpopError('invalid', 'This DPoP proof has already been used (jti)')
  return { jkt }
}

function normalizeHtu(raw: string): string | null {
  try {
    const url = new URL(raw)
    return `${url.protocol}//${url.host}${url.pathname}`
  } catch {
    return null
  }
}
