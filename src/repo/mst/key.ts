/**
 * MST keys: `<collection>/<rkey>` repo paths, their tree height and shared prefixes.
 */
import { sha256 } from '@noble/hashes/sha2.js'

export class InvalidMstKeyError extends Error {
  override name = 'InvalidMstKeyError'
}

export const MAX_MST_KEY_LENGTH = 1024

const SEGMENT = /^[a-zA-Z0-9_~\-:.]+$/
const utf8 = new TextEncoder()

/**
 * Height of a key in the tree: leading zero bits of SHA-256(key), counted in 2-bit
 * chunks, which gives the fanout of 4 the spec fixes.
 */
export function keyHeight(key: string): number {
  const cached = heightCache.get(key)
  if (cached !== undefined) return cached
  const height = leadingZeros(sha256(keyBytes(key))) >> 1
  if (heightCache.size >= HEIGHT_CACHE_SIZE) heightCache.clear()
  heightCache.set(key, height)
  return height
}

/**
 * Loading a node checks the height of each of its keys, and a commit reloads the same
 * top nodes every time, so recent answers are kept (the cache is simply dropped when full).
 */
const HEIGHT_CACHE_SIZE = 16_384
const heightCache = new Map<string, number>()

// Hashing a view of a preallocated buffer avoids allocating a byte array per key.
const scratch = new Uint8Array(new ArrayBuffer(MAX_MST_KEY_LENGTH))

function keyBytes(key: string): Uint8Array {
  if (key.length > scratch.length) return utf8.encode(key)
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80) return utf8.encode(key)
    scratch[i] = c
  }
  return scratch.subarray(0, key.length)
}

function leadingZeros(hash: Uint8Array): number {
  let zeros = 0
  for (const byte of hash) {
    if (byte !== 0) return zeros + Math.clz32(byte) - 24
    zeros += 8
  }
  return zeros
}

/** Length in bytes of the UTF-8 prefix that `a` and `b` share. */
export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i) && a.charCodeAt(i) < 0x80) i++
  if (i === n || (a.charCodeAt(i) < 0x80 && b.charCodeAt(i) < 0x80)) return i
  // Beyond ASCII, compare encoded bytes so the answer is in bytes, not UTF-16 units.
  const x = utf8.encode(a)
  const y = utf8.encode(b)
  const m = Math.min(x.length, y.length)
  let j = 0
  while (j < m && x[j] === y[j]) j++
  return j
}

/** A repo path usable as an MST key: two non-empty segments of allowed characters. */
export function isValidMstKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_MST_KEY_LENGTH) return false
  const slash = key.indexOf('/')
  if (slash <= 0 || slash !== key.lastIndexOf('/') || slash === key.length - 1) return false
  const collection = key.slice(0, slash)
  const rkey = key.slice(slash + 1)
  if (!SEGMENT.test(collection) || !SEGMENT.test(rkey)) return false
  return rkey !== '.' && rkey !== '..' && collection !== '.' && collection !== '..'
}

export function ensureValidMstKey(key: string): void {
  if (!isValidMstKey(key)) throw new InvalidMstKeyError(`invalid MST key: ${JSON.stringify(key)}`)
}
