/**
 * Stateless DPoP nonces (RFC 9449 §8): an HMAC of a time counter, so every isolate gives and
 * accepts the same nonces without storage. A nonce changes every 3 minutes; the one before and
 * the one after are accepted too, so a nonce stays good for 6 to 9 minutes, and clocks of
 * isolates a little apart agree.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { timingSafeEqualString } from '../auth/constant-time.ts'
import type { Config } from '../config.ts'
import { base64url, oauthKey } from './secrets.ts'

const PERIOD_MS = 3 * 60 * 1000

function nonceFor(config: Config, counter: number): string {
  const mac = hmac(sha256, oauthKey(config, 'dpop-nonce'), new TextEncoder().encode(`${counter}`))
  return base64url(mac.subarray(0, 16))
}

export function currentDpopNonce(config: Config, nowMs = Date.now()): string {
  return nonceFor(config, Math.floor(nowMs / PERIOD_MS))
}

export function isValidDpopNonce(config: Config, nonce: unknown, nowMs = Date.now()): boolean {
  if (typeof nonce !== 'string' || nonce.length > 64) return false
  const counter = Math.floor(nowMs / PERIOD_MS)
  let valid = false
  for (const c of [counter - 1, counter, counter + 1]) {
    // No early exit: which neighbour matched is not leaked through timing.
    if (timingSafeEqualString(nonce, nonceFor(config, c))) valid = true
  }
  return valid
}

/**
 * A resource response to a DPoP request carries the current nonce (RFC 9449 §9), so clients
 * switch to a new one before the old one is refused. Others pass through untouched.
 */
export function withDpopNonce(request: Request, config: Config, response: Response): Response {
  if (!request.headers.has('dpop') || response.headers.has('dpop-nonce')) return response
  // A WebSocket upgrade or a proxied response may have immutable headers.
  if (response.status === 101) return response
  const copy = new Response(response.body, response)
  copy.headers.set('DPoP-Nonce', currentDpopNonce(config))
  return copy
}
