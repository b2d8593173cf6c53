/**
 * The two curves atproto supports, keyed by their JWT `alg` name, with the identifiers each
 * one goes by in did:key multikeys and legacy DID-document verification methods.
 */

import type { ECDSA } from '@noble/curves/abstract/weierstrass.js'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { DidKeyError } from './errors.ts'

export type JwtAlg = 'ES256K' | 'ES256'

export interface CurveInfo {
  jwtAlg: JwtAlg
  ecdsa: ECDSA
  /** Unsigned-varint multicodec: secp256k1-pub 0xe7, p256-pub 0x1200. */
  multicodecPrefix: Uint8Array
  legacyVerificationMethodType: string
}

export const CURVES: Record<JwtAlg, CurveInfo> = {
  ES256K: {
    jwtAlg: 'ES256K',
    ecdsa: secp256k1,
    multicodecPrefix: new Uint8Array([0xe7, 0x01]),
    legacyVerificationMethodType: 'EcdsaSecp256k1VerificationKey2019',
  },
  ES256: {
    jwtAlg: 'ES256',
    ecdsa: p256,
    multicodecPrefix: new Uint8Array([0x80, 0x24]),
    legacyVerificationMethodType: 'EcdsaSecp256r1VerificationKey2019',
  },
}

export function curveFor(jwtAlg: string): CurveInfo {
  const curve = CURVES[jwtAlg as JwtAlg]
  if (!curve) throw new DidKeyError(`unsupported key algorithm ${JSON.stringify(jwtAlg)}`)
  return curve
}

/**
 * Checks that `publicKey` (33-byte compressed or 65-byte uncompressed SEC1) is a point on the
 * curve and returns its compressed form.
 */
export function compressPublicKey(jwtAlg: JwtAlg, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 33 && publicKey.length !== 65) {
    throw new DidKeyError(`${jwtAlg} public key must be 33 or 65 bytes (got ${publicKey.length})`)
  }
  try {
    return CURVES[jwtAlg].ecdsa.Point.fromBytes(publicKey).toBytes(true)
  } catch {
    throw new DidKeyError(`${jwtAlg} public key is not a valid curve point`)
  }
}
