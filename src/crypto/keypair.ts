/**
 * Signing keypairs. Signatures are ECDSA over SHA-256 of the message, in the 64-byte compact
 * `r||s` form, always low-S as atproto requires [spec:cryptography].
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { CURVES, type CurveInfo, type JwtAlg } from './curves.ts'
import { formatDidKey } from './did-key.ts'
import { PrivateKeyError } from './errors.ts'

export interface Keypair {
  readonly jwtAlg: JwtAlg
  /** did:key form of the public key. */
  did(): string
  /** Compressed SEC1 public key, 33 bytes. */
  publicKeyBytes(): Uint8Array
  /** Hashes `message` with SHA-256 and signs it: 64 bytes, low-S. */
  sign(message: Uint8Array): Promise<Uint8Array>
  /** The raw 32-byte private scalar. */
  exportPrivateKey(): Uint8Array
}

/** Shared implementation; the exported classes only pick the curve. */
export abstract class EcdsaKeypair implements Keypair {
  readonly jwtAlg: JwtAlg
  readonly #curve: CurveInfo
  readonly #privateKey: Uint8Array
  readonly #publicKey: Uint8Array
  #did: string | undefined

  protected constructor(jwtAlg: JwtAlg, privateKey: Uint8Array) {
    this.jwtAlg = jwtAlg
    this.#curve = CURVES[jwtAlg]
    this.#privateKey = Uint8Array.from(privateKey)
    this.#publicKey = this.#curve.ecdsa.getPublicKey(this.#privateKey, true)
  }

  did(): string {
    this.#did ??= formatDidKey(this.jwtAlg, this.#publicKey)
    return this.#did
  }

  publicKeyBytes(): Uint8Array {
    return Uint8Array.from(this.#publicKey)
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    // noble v2 hashes the message itself (prehash), so the raw bytes go in, not a digest.
    return this.#curve.ecdsa.sign(message, this.#privateKey, {
      prehash: true,
      lowS: true,
      format: 'compact',
    })
  }

  exportPrivateKey(): Uint8Array {
    return Uint8Array.from(this.#privateKey)
  }

  /** Hex form of the private key, for configuration files. */
  exportPrivateKeyHex(): string {
    return bytesToHex(this.#privateKey)
  }
}

export function generatePrivateKey(jwtAlg: JwtAlg): Uint8Array {
  return CURVES[jwtAlg].ecdsa.utils.randomSecretKey()
}

/** Accepts 32 raw bytes or 64 hex characters and checks the scalar is in range. */
export function readPrivateKey(jwtAlg: JwtAlg, privateKey: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array
  if (typeof privateKey === 'string') {
    try {
      bytes = hexToBytes(privateKey.trim())
    } catch {
      throw new PrivateKeyError('private key is not valid hex')
    }
  } else {
    bytes = privateKey
  }
  if (bytes.length !== 32) {
    throw new PrivateKeyError(`private key must be 32 bytes (got ${bytes.length})`)
  }
  if (!CURVES[jwtAlg].ecdsa.utils.isValidSecretKey(bytes)) {
    throw new PrivateKeyError(`private key is out of range for ${jwtAlg}`)
  }
  return bytes
}
