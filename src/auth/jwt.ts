/**
 * Compact JWS encoding shared by session tokens and service-auth tokens: three base64url
 * segments, `header.payload.signature`, the first two being JSON objects.
 *
 * @NOTE Parsing is strict: the shared base64url decoder ignores non-zero trailing bits, so a
 * segment is accepted only if it re-encodes to itself. Otherwise several strings would decode
 * to the same signature, and a token could be altered without invalidating it.
 */
import { base64UrlDecode, base64UrlEncode } from '../data/base64.ts'
import { JwtFormatError } from './errors.ts'

/** Far above any token we issue or accept; bounds the work spent on a hostile header. */
export const MAX_JWT_LENGTH = 16_384

export type JsonObject = Record<string, unknown>

export interface ParsedJwt {
  header: JsonObject
  payload: JsonObject
  /** The bytes the signature covers: `<header>.<payload>` as ASCII. */
  signingInput: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function encodeJwtSegment(value: JsonObject): string {
  return base64UrlEncode(encoder.encode(JSON.stringify(value)))
}

/** `<header>.<payload>`, the part to sign. */
export function jwtSigningInput(header: JsonObject, payload: JsonObject): string {
  return `${encodeJwtSegment(header)}.${encodeJwtSegment(payload)}`
}

export function joinJwt(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${base64UrlEncode(signature)}`
}

/**
 * Parsed tokens by their text. A client sends the same access token on every call, and one
 * call can parse it twice (telling an OAuth token from a session token, then verifying it):
 * decoding and re-encoding the segments was 5-7% of a write's CPU. Parsing is a pure function
 * of the text, so a hit is the same answer; the entries are frozen because callers share them.
 */
const parsedTokens = new Map<string, ParsedJwt>()
const PARSED_TOKENS_KEPT = 256

export function parseJwt(token: unknown): ParsedJwt {
  if (typeof token !== 'string' || token.length === 0) {
    throw new JwtFormatError('token is not a string')
  }
  if (token.length > MAX_JWT_LENGTH) throw new JwtFormatError('token is too long')
  const cached = parsedTokens.get(token)
  if (cached) return cached
  const parts = token.split('.')
  if (parts.length !== 3) throw new JwtFormatError('token must have three parts')
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const parsed: ParsedJwt = Object.freeze({
    header: Object.freeze(decodeJsonSegment(headerPart, 'header')),
    payload: Object.freeze(decodeJsonSegment(payloadPart, 'payload')),
    signingInput: Uint8Array.from(encoder.encode(`${headerPart}.${payloadPart}`)),
    signature: decodeSegment(signaturePart, 'signature'),
  })
  // Oldest first out: Map keeps insertion order.
  if (parsedTokens.size >= PARSED_TOKENS_KEPT) {
    parsedTokens.delete(parsedTokens.keys().next().value as string)
  }
  parsedTokens.set(token, parsed)
  return parsed
}

function decodeSegment(segment: string, label: string): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = Uint8Array.from(base64UrlDecode(segment))
  } catch {
    throw new JwtFormatError(`token ${label} is not base64url`)
  }
  if (bytes.length === 0 || base64UrlEncode(bytes) !== segment) {
    throw new JwtFormatError(`token ${label} is not canonical base64url`)
  }
  return bytes
}

function decodeJsonSegment(segment: string, label: string): JsonObject {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(decodeSegment(segment, label)))
  } catch (err) {
    if (err instanceof JwtFormatError) throw err
    throw new JwtFormatError(`token ${label} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtFormatError(`token ${label} is not a JSON object`)
  }
  return value as JsonObject
}

/** Whole seconds since the epoch, the unit of `iat` and `exp`; `nowMs` as from Date.now(). */
export function epochSeconds(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 1000)
}

/** A NumericDate claim: a finite, non-negative number (fractions are allowed by RFC 7519). */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}
