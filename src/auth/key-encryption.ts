/**
 * Account signing keys at rest: AES-256-GCM under a key derived from
 * PDS_KEY_ENCRYPTION_SECRET with HKDF-SHA256. Output: `v1.<iv>.<ciphertext+tag>` (base64url),
 * with a fresh random 12-byte IV per encryption.
 *
 * HKDF only stretches and separates: the secret must already be high-entropy (say 32 random
 * bytes in hex), not a passphrase. `associatedData`, e.g. the account DID, binds a ciphertext
 * to its row, so a key copied into another account's row fails to decrypt.
 */
import { base64UrlDecode, base64UrlEncode } from '../data/base64.ts'
import { KeyDecryptionError } from './errors.ts'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16
// Fixed: changing it changes the derived key and strands every stored key.
const HKDF_INFO = 'edge-pds signing-key encryption v1'

const encoder = new TextEncoder()
const keyCache = new Map<string, Promise<CryptoKey>>()

export async function encryptPrivateKey(
  privateKey: Uint8Array,
  secret: string,
  associatedData?: string,
): Promise<string> {
  const key = await deriveKey(secret)
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ciphertext = await crypto.subtle.encrypt(
    gcm(iv, associatedData),
    key,
    Uint8Array.from(privateKey),
  )
  return `${VERSION}.${base64UrlEncode(iv)}.${base64UrlEncode(new Uint8Array(ciphertext))}`
}

/** Throws KeyDecryptionError on a wrong secret, wrong associated data or damaged input. */
export async function decryptPrivateKey(
  encoded: string,
  secret: string,
  associatedData?: string,
): Promise<Uint8Array> {
  const parts = encoded.split('.')
  if (parts.length !== 3 || parts[0] !== VERSION) {
    throw new KeyDecryptionError('encrypted signing key is not in the v1 format')
  }
  let iv: Uint8Array
  let ciphertext: Uint8Array<ArrayBuffer>
  try {
    iv = base64UrlDecode(parts[1]!)
    ciphertext = Uint8Array.from(base64UrlDecode(parts[2]!))
  } catch {
    throw new KeyDecryptionError('encrypted signing key is not base64url')
  }
  if (iv.length !== IV_BYTES || ciphertext.length <= TAG_BYTES) {
    throw new KeyDecryptionError('encrypted signing key is truncated')
  }
  const key = await deriveKey(secret)
  try {
    const plain = await crypto.subtle.decrypt(gcm(iv, associatedData), key, ciphertext)
    return new Uint8Array(plain)
  } catch {
    throw new KeyDecryptionError(
      'cannot decrypt the signing key: wrong PDS_KEY_ENCRYPTION_SECRET, or damaged data',
    )
  }
}

interface GcmParams {
  name: 'AES-GCM'
  iv: Uint8Array
  additionalData?: Uint8Array
}

function gcm(iv: Uint8Array, associatedData: string | undefined): GcmParams {
  return associatedData === undefined
    ? { name: 'AES-GCM', iv }
    : { name: 'AES-GCM', iv, additionalData: encoder.encode(associatedData) }
}

function deriveKey(secret: string): Promise<CryptoKey> {
  if (secret.length === 0) throw new TypeError('the key encryption secret is empty')
  let key = keyCache.get(secret)
  if (!key) {
    key = importAndDerive(secret)
    if (keyCache.size >= 4) keyCache.clear()
    keyCache.set(secret, key)
  }
  return key
}

async function importAndDerive(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
    'deriveKey',
  ])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(HKDF_INFO) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
}
