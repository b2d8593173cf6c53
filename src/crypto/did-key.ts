/**
 * did:key and multikey encoding of atproto signing keys: the compressed public key behind a
 * varint multicodec prefix, base58btc with a `z` multibase prefix [spec:cryptography].
 */
import { base58btc } from 'multiformats/bases/base58'
import { CURVES, compressPublicKey, type JwtAlg } from './curves.ts'
import { DidKeyError } from './errors.ts'

export const DID_KEY_PREFIX = 'did:key:'

export interface ParsedDidKey {
  jwtAlg: JwtAlg
  /** Compressed SEC1 point, 33 bytes. */
  publicKey: Uint8Array
}

export interface VerificationMethod {
  type: string
  publicKeyMultibase?: string
}

export function formatMultikey(jwtAlg: JwtAlg, publicKey: Uint8Array): string {
  const compressed = compressPublicKey(jwtAlg, publicKey)
  const prefix = CURVES[jwtAlg].multicodecPrefix
  const bytes = new Uint8Array(prefix.length + compressed.length)
  bytes.set(prefix)
  bytes.set(compressed, prefix.length)
  return base58btc.encode(bytes)
}

/** Reads a `z...` multikey. Uncompressed keys are accepted and returned compressed. */
export function parseMultikey(multikey: string): ParsedDidKey {
  const bytes = decodeMultibase(multikey)
  for (const curve of Object.values(CURVES)) {
    if (startsWith(bytes, curve.multicodecPrefix)) {
      const key = bytes.subarray(curve.multicodecPrefix.length)
      return { jwtAlg: curve.jwtAlg, publicKey: compressPublicKey(curve.jwtAlg, key) }
    }
  }
  throw new DidKeyError('multikey is not a p256 or secp256k1 public key')
}

export function formatDidKey(jwtAlg: JwtAlg, publicKey: Uint8Array): string {
  return DID_KEY_PREFIX + formatMultikey(jwtAlg, publicKey)
}

export function parseDidKey(didKey: string): ParsedDidKey {
  if (!didKey.startsWith(DID_KEY_PREFIX)) {
    throw new DidKeyError(`not a did:key: ${JSON.stringify(didKey.slice(0, 64))}`)
  }
  return parseMultikey(didKey.slice(DID_KEY_PREFIX.length))
}

/** Whether `value` is a did:key of a supported curve with a valid public key. */
export function isValidDidKey(value: string): boolean {
  try {
    parseDidKey(value)
    return true
  } catch (err) {
    if (err instanceof DidKeyError) return false
    throw err
  }
}

/**
 * The did:key for a DID-document verification method: `Multikey`, or the deprecated
 * `EcdsaSecp256{k,r}1VerificationKey2019` whose multibase holds the bare key (no multicodec),
 * compressed or not. The legacy form is what the PLC directory writes for some documents.
 */
export function didKeyFromVerificationMethod(method: VerificationMethod): string {
  const { type, publicKeyMultibase } = method
  if (typeof publicKeyMultibase !== 'string') {
    throw new DidKeyError(`verification method of type ${type} has no publicKeyMultibase`)
  }
  if (type === 'Multikey') {
    const { jwtAlg, publicKey } = parseMultikey(publicKeyMultibase)
    return formatDidKey(jwtAlg, publicKey)
  }
  for (const curve of Object.values(CURVES)) {
    if (type === curve.legacyVerificationMethodType) {
      return formatDidKey(curve.jwtAlg, decodeMultibase(publicKeyMultibase))
    }
  }
  throw new DidKeyError(`unsupported verification method type ${JSON.stringify(type)}`)
}

function decodeMultibase(text: string): Uint8Array {
  if (!text.startsWith('z')) throw new DidKeyError('multibase key must be base58btc (z...)')
  try {
    return base58btc.decode(text)
  } catch {
    throw new DidKeyError('multibase key is not valid base58btc')
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false
  return prefix.every((byte, i) => bytes[i] === byte)
}
