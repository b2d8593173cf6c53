/**
 * Keys the authorization server derives from PDS_JWT_SECRET, one per purpose, so that no
 * OAuth token or nonce can be mistaken for a legacy session token (a different key) and no
 * new secret needs configuring.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { type Config, requireSecret } from '../config.ts'

export type OAuthKeyPurpose = 'access-token' | 'dpop-nonce' | 'csrf'

const cache = new Map<string, Uint8Array>()

export function oauthKey(config: Config, purpose: OAuthKeyPurpose): Uint8Array {
  const secret = requireSecret(config, 'jwtSecret')
  const id = `${purpose}\n${secret}`
  let key = cache.get(id)
  if (!key) {
    const encoder = new TextEncoder()
    key = hmac(sha256, encoder.encode(secret), encoder.encode(`edge-pds oauth ${purpose}`))
    cache.set(id, key)
  }
  return key
}

/** SHA-256 of a high-entropy token, as stored (codes, refresh tokens, device cookies). */
export function tokenHash(token: string): string {
  return base64url(sha256(new TextEncoder().encode(token)))
}

export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
