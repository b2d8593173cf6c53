/**
 * Generic atproto data-model validation (no lexicon): the shape rules every record must meet
 * before it is encoded, plus the informal size limits from the data-validation guide.
 */

import { CID } from './cid.ts'
import { type DataPath, describeType, errorAt, preview } from './errors.ts'
import { MAX_CID_BYTES, parseJsonBytes, parseJsonLink } from './json.ts'
import { isPlainObject } from './object.ts'
import { utf8Length } from './utf8.ts'

/**
 * Limits enforced here, from [guide:data-validation]. Depth counts maps and arrays, the record
 * itself being depth 1; `$link`/`$bytes` objects are scalars and do not count.
 * maxRecordCborBytes is not checked here (it needs the encoding): callers check it.
 */
export const DATA_MODEL_LIMITS = {
  maxDepth: 32,
  maxContainerLength: 131_072,
  maxMapKeyBytes: 8192,
  maxCidBytes: MAX_CID_BYTES,
  maxRecordCborBytes: 1_048_576,
} as const

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

type Form = 'json' | 'ipld'

/**
 * Validates a record in atproto JSON form (`$link`, `$bytes`). Throws DataModelError naming
 * the path and the rule broken.
 */
export function validateDataModel(json: unknown): void {
  checkRecord(json, 'json')
}

/** Same rules as validateDataModel, on the data-model form (CID and Uint8Array values). */
export function ensureDataModelValue(value: unknown): void {
  checkRecord(value, 'ipld')
}

function checkRecord(value: unknown, form: Form): void {
  if (!isPlainObject(value) || Object.hasOwn(value, '$link') || Object.hasOwn(value, '$bytes')) {
    throw errorAt([], `top level must be an object (got ${describeType(value)})`)
  }
  checkValue(value, form, [], 0)
}

function checkValue(value: unknown, form: Form, path: DataPath, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      checkNumber(value, path)
      return
    case 'bigint':
      if (form === 'ipld' && value >= MIN_INT64 && value <= MAX_INT64) return
      throw errorAt(path, `integer out of range (${value})`)
    case 'object':
      break
    default:
      throw errorAt(path, `${typeof value} is not a data-model value`)
  }
  if (value === null) return
  if (form === 'ipld') {
    if (value instanceof Uint8Array) return
    const cid = CID.asCID(value)
    if (cid) {
      if (cid.bytes.length > MAX_CID_BYTES) throw errorAt(path, 'CID is too long')
      return
    }
  }
  if (Array.isArray(value)) {
    checkContainer(value.length, path, depth + 1)
    for (let i = 0; i < value.length; i++) {
      path.push(i)
      if (value[i] === undefined) throw errorAt(path, 'arrays may not contain undefined')
      checkValue(value[i], form, path, depth + 1)
      path.pop()
    }
    return
  }
  if (!isPlainObject(value)) {
    throw errorAt(path, `${describeType(value)} is not a data-model value`)
  }
  const hasLink = Object.hasOwn(value, '$link')
  const hasBytes = Object.hasOwn(value, '$bytes')
  if (form === 'json') {
    if (hasLink) {
      parseJsonLink(value, path)
      return
    }
    if (hasBytes) {
      parseJsonBytes(value, path)
      return
    }
  } else if (hasLink || hasBytes) {
    // Such a map could not be written as JSON without turning into a link or bytes.
    throw errorAt(path, 'the keys $link and $bytes are reserved')
  }
  checkMap(value, form, path, depth + 1)
}

function checkMap(map: Record<string, unknown>, form: Form, path: DataPath, depth: number): void {
  const keys = Object.keys(map)
  checkContainer(keys.length, path, depth)
  const type = map.$type
  if (type !== undefined) {
    if (typeof type !== 'string' || type.length === 0) {
      throw errorAt(path, `$type must be a non-empty string (got ${preview(type)})`)
    }
    if (type === 'blob') checkBlob(map, form, path)
  }
  for (const key of keys) {
    if (key.length === 0) throw errorAt(path, 'map keys may not be empty')
    if (
      key.length * 3 > DATA_MODEL_LIMITS.maxMapKeyBytes &&
      utf8Length(key) > DATA_MODEL_LIMITS.maxMapKeyBytes
    ) {
      throw errorAt(path, `map key is longer than ${DATA_MODEL_LIMITS.maxMapKeyBytes} bytes`)
    }
    const entry = map[key]
    if (entry === undefined) continue
    path.push(key)
    checkValue(entry, form, path, depth)
    path.pop()
  }
}

function checkBlob(blob: Record<string, unknown>, form: Form, path: DataPath): void {
  const { ref, mimeType, size } = blob
  const refIsLink =
    form === 'json' ? isPlainObject(ref) && Object.hasOwn(ref, '$link') : CID.asCID(ref) !== null
  if (!refIsLink) throw errorAt(path, `blob ref must be a link (got ${preview(ref)})`)
  if (typeof mimeType !== 'string' || mimeType.length === 0) {
    throw errorAt(path, `blob mimeType must be a non-empty string (got ${preview(mimeType)})`)
  }
  // [spec:blob] allows the empty blob, so size 0 is accepted despite "positive" elsewhere.
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw errorAt(path, `blob size must be a non-negative integer (got ${preview(size)})`)
  }
}

function checkContainer(length: number, path: DataPath, depth: number): void {
  if (depth > DATA_MODEL_LIMITS.maxDepth) {
    throw errorAt(path, `nested deeper than ${DATA_MODEL_LIMITS.maxDepth} levels`)
  }
  if (length > DATA_MODEL_LIMITS.maxContainerLength) {
    throw errorAt(path, `more than ${DATA_MODEL_LIMITS.maxContainerLength} entries`)
  }
}

function checkNumber(value: number, path: DataPath): void {
  if (!Number.isInteger(value)) throw errorAt(path, `floats are not allowed (got ${value})`)
  if (!Number.isSafeInteger(value)) {
    throw errorAt(path, `integers must be within ±(2^53-1) (got ${value})`)
  }
}
