/**
 * DAG-CBOR (DRISL) encoding for the atproto data model.
 *
 * @NOTE @ipld/dag-cbor accepts floats and throws on `undefined`; atproto forbids floats
 * and treats an `undefined` property as absent, so both are handled here before encoding.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { bytesEqual } from './bytes.ts'
import { cidForCborBytes } from './cid.ts'
import { DataModelError, describeType } from './errors.ts'
import { isPlainObject, setOwn } from './object.ts'

export { DataModelError }

/** Encodes a data-model value. Throws DataModelError on floats and non-data values. */
export function encodeCbor(value: unknown): Uint8Array {
  return dagCbor.encode(prepareForEncoding(value, 0))
}

/** Decodes one DAG-CBOR value (strict: canonical integers, no indefinite lengths). */
export function decodeCbor<T = unknown>(bytes: Uint8Array): T {
  return dagCbor.decode<T>(bytes)
}

/** Encodes a value and returns its bytes with their dag-cbor CID. */
export async function encodeCborBlock(value: unknown): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = encodeCbor(value)
  return { cid: await cidForCborBytes(bytes), bytes }
}

/** True when both values have the same DRISL encoding (so the same CID). */
export function cborEquals(a: unknown, b: unknown): boolean {
  return bytesEqual(encodeCbor(a), encodeCbor(b))
}

const MAX_DEPTH = 128
const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

function prepareForEncoding(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new DataModelError('value is nested too deeply')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new DataModelError(`numbers must be safe integers (got ${value})`)
    }
    return value
  }
  if (typeof value === 'bigint') {
    if (value < MIN_INT64 || value > MAX_INT64) {
      throw new DataModelError(`integers must fit in 64 bits (got ${value})`)
    }
    return value
  }
  if (value instanceof Uint8Array) return value
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (item === undefined) throw new DataModelError('arrays may not contain undefined')
      return prepareForEncoding(item, depth + 1)
    })
  }
  if (typeof value === 'object') {
    const cid = CID.asCID(value)
    if (cid) return cid
    if (!isPlainObject(value)) {
      throw new DataModelError(`unsupported object type ${describeType(value)}`)
    }
    const out: Record<string, unknown> = {}
    for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
      if (entry === undefined) continue
      setOwn(out, key, prepareForEncoding(entry, depth + 1))
    }
    return out
  }
  throw new DataModelError(`unsupported value of type ${typeof value}`)
}
