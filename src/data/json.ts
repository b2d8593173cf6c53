/**
 * Conversion between atproto's JSON form and the data model: `{"$link": cid}` is a CID and
 * `{"$bytes": base64}` is a byte array. Blob objects stay objects; their `ref` is a link and so
 * becomes a CID like any other.
 */
import { base64Decode, base64Encode } from './base64.ts'
import { CID, parseCid } from './cid.ts'
import { type DataPath, describeType, errorAt, preview } from './errors.ts'
import { isPlainObject, setOwn } from './object.ts'

/** CIDs longer than this are not something atproto produces [guide:data-validation]. */
export const MAX_CID_BYTES = 100

// Only a guard against stack exhaustion; validateDataModel enforces the real nesting limit.
const MAX_CONVERSION_DEPTH = 256

/** Converts atproto JSON (as from JSON.parse) to a data-model value. */
export function jsonToIpld(json: unknown): unknown {
  return fromJson(json, [])
}

/** Converts a data-model value to atproto JSON, ready for JSON.stringify. */
export function ipldToJson(value: unknown): unknown {
  return toJson(value, [])
}

/** Reads a `{"$link": "<cid>"}` object, which must have no other keys. */
export function parseJsonLink(object: Record<string, unknown>, path: DataPath = []): CID {
  if (Object.keys(object).length !== 1) {
    throw errorAt(path, '$link object must have no other keys')
  }
  const link = object.$link
  if (typeof link !== 'string') throw errorAt(path, `$link must be a string (got ${preview(link)})`)
  const cid = parseCid(link)
  if (!cid) throw errorAt(path, `$link is not a valid CID (${preview(link)})`)
  if (cid.bytes.length > MAX_CID_BYTES) throw errorAt(path, '$link CID is too long')
  return cid
}

/** Reads a `{"$bytes": "<base64>"}` object, which must have no other keys. */
export function parseJsonBytes(object: Record<string, unknown>, path: DataPath = []): Uint8Array {
  if (Object.keys(object).length !== 1) {
    throw errorAt(path, '$bytes object must have no other keys')
  }
  const text = object.$bytes
  if (typeof text !== 'string') {
    throw errorAt(path, `$bytes must be a string (got ${preview(text)})`)
  }
  try {
    return base64Decode(text)
  } catch (err) {
    throw errorAt(path, `$bytes is not valid base64: ${(err as Error).message}`)
  }
}

function fromJson(value: unknown, path: DataPath): unknown {
  if (typeof value === 'string') {
    // JSON can spell a lone surrogate (`"\ud800"`), which UTF-8 cannot encode: refused rather
    // than stored as U+FFFD, so a record reads back as it was sent.
    if (!isWellFormed(value)) throw errorAt(path, 'string is not valid Unicode (lone surrogate)')
    return value
  }
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'number') return value
  if (path.length > MAX_CONVERSION_DEPTH) throw errorAt(path, 'value is nested too deeply')
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) throw errorAt(path, 'arrays may not contain undefined')
      path.push(i)
      out[i] = fromJson(value[i], path)
      path.pop()
    }
    return out
  }
  if (isPlainObject(value)) {
    if (Object.hasOwn(value, '$link')) return parseJsonLink(value, path)
    if (Object.hasOwn(value, '$bytes')) return parseJsonBytes(value, path)
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const entry = value[key]
      if (entry === undefined) continue
      if (!isWellFormed(key)) throw errorAt(path, 'key is not valid Unicode (lone surrogate)')
      path.push(key)
      setOwn(out, key, fromJson(entry, path))
      path.pop()
    }
    return out
  }
  throw errorAt(path, `not a JSON value (${describeType(value)})`)
}

function toJson(value: unknown, path: DataPath): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') {
    // JSON numbers lose precision past 2^53, so refuse rather than silently round.
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return Number(value)
    }
    throw errorAt(path, `integer ${value} cannot be represented exactly in JSON`)
  }
  if (value instanceof Uint8Array) return { $bytes: base64Encode(value) }
  if (path.length > MAX_CONVERSION_DEPTH) throw errorAt(path, 'value is nested too deeply')
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) throw errorAt(path, 'arrays may not contain undefined')
      path.push(i)
      out[i] = toJson(value[i], path)
      path.pop()
    }
    return out
  }
  const cid = CID.asCID(value)
  if (cid) return { $link: cid.toString() }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const entry = value[key]
      if (entry === undefined) continue
      path.push(key)
      setOwn(out, key, toJson(entry, path))
      path.pop()
    }
    return out
  }
  throw errorAt(path, `not a data-model value (${describeType(value)})`)
}

/** `String.prototype.isWellFormed` (ES2024, in workerd and Node 20+), typed for our ES2023 lib. */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed()
}
