/**
 * The browser side of the pages: a device cookie (random, HttpOnly, stored only hashed) that
 * ties a request to the browser that opened it and remembers the accounts signed in there,
 * and CSRF tokens derived from it (an HMAC), checked on every form post together with the
 * request's origin.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { timingSafeEqualString } from '../auth/constant-time.ts'
import { randomToken } from '../auth/random-token.ts'
import type { Config } from '../config.ts'
import { base64url, oauthKey, tokenHash } from './secrets.ts'

export interface Device {
  /** What the rows store. */
  hash: string
  /** The token forms must carry. */
  csrf: string
  /** Set-Cookie for a browser that had no cookie yet. */
  setCookie: string | null
}

const ONE_YEAR = 365 * 24 * 3600

function cookieName(config: Config): string {
  // `__Host-` (Secure, no Domain, Path=/) where the origin is https.
  return config.publicUrl.startsWith('https:') ? '__Host-pds-device' : 'pds-device'
}

/** The browser's device, created (with a cookie to set) when `create` and it has none. */
export function deviceOf(request: Request, config: Config, create: true): Device
export function deviceOf(request: Request, config: Config, create: false): Device | null
export function deviceOf(request: Request, config: Config, create: boolean): Device | null {
  const name = cookieName(config)
  let id = readCookie(request, name)
  let setCookie: string | null = null
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
    if (!create) return null
    id = randomToken(32)
    const secure = config.publicUrl.startsWith('https:') ? '; Secure' : ''
    setCookie = `${name}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR}${secure}`
  }
  const csrf = base64url(hmac(sha256, oauthKey(config, 'csrf'), new TextEncoder().encode(id)))
  return { hash: tokenHash(id), csrf, setCookie }
}

/**
 * Whether a form post is genuine: it carries this browser's CSRF token and, when the browser
 * says where it comes from, comes from our own origin.
 */
export function checkFormPost(
  request: Request,
  form: URLSearchParams,
  device: Device | null,
  config: Config,
): boolean {
  if (!device) return false
  const origin = request.headers.get('origin')
  if (origin && origin !== 'null' && origin !== new URL(config.publicUrl).origin) return false
  const site = request.headers.get('sec-fetch-site')
  if (site && site !== 'same-origin' && site !== 'none') return false
  return timingSafeEqualString(form.get('csrf') ?? '', device.csrf)
}

function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get('cookie')
  if (!header) return null
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return null
}

/** Link previewers and crawlers: they may look at a page but must not consume its request. */
export function isCrawler(request: Request): boolean {
  const agent = request.headers.get('user-agent') ?? ''
  return /bot\b|crawl|spider|slurp|preview|facebookexternalhit|embedly|whatsapp|telegram|discord|slack|twitterbot|linkedin|skype|vkshare|mastodon|bluesky|iframely|curl\/|wget/i.test(
    agent,
  )
}
