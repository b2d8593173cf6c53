/**
 * Blob references in data-model form (`ref` is a CID, not `{"$link"}`).
 *
 * @NOTE The legacy form `{cid: "<string>", mimeType}` still occurs in old records. It must be
 * read but never written, so it is normalised to LegacyBlobRef (no `$type`, no known size)
 * rather than upgraded to a BlobRef with an invented size.
 */
import { CID, parseCid } from './cid.ts'
import { isPlainObject } from './object.ts'

export type BlobRef = { $type: 'blob'; ref: CID; mimeType: string; size: number }

export type LegacyBlobRef = { $type?: undefined; ref: CID; mimeType: string; size?: undefined }

/** What findBlobRefs returns: `ref.$type === 'blob'` tells the two apart. */
export type AnyBlobRef = BlobRef | LegacyBlobRef

/**
 * Shape check only: mimeType may be empty and the ref codec is not checked, because
 * existing records must stay readable (write-side rules live in validate.ts).
 */
export function isBlobRef(value: unknown): value is BlobRef {
  if (!isPlainObject(value) || value.$type !== 'blob') return false
  const { size } = value
  return (
    CID.asCID(value.ref) !== null &&
    typeof value.mimeType === 'string' &&
    typeof size === 'number' &&
    Number.isSafeInteger(size) &&
    size >= 0
  )
}

/** Reads `{cid, mimeType}` (exactly those two keys); null when `value` is not one. */
export function parseLegacyBlobRef(value: unknown): LegacyBlobRef | null {
  if (!isPlainObject(value)) return null
  const { cid, mimeType } = value
  if (typeof cid !== 'string' || typeof mimeType !== 'string') return null
  if (Object.keys(value).length !== 2) return null
  const ref = parseCid(cid)
  return ref ? { ref, mimeType } : null
}

/**
 * Every blob reference inside a data-model value, in document order, legacy ones included.
 * Occurrences are not deduplicated.
 */
export function findBlobRefs(value: unknown): AnyBlobRef[] {
  const found: AnyBlobRef[] = []
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push(current[i])
      continue
    }
    if (!isPlainObject(current)) continue
    if (isBlobRef(current)) {
      const ref = CID.asCID(current.ref) as CID
      found.push({ $type: 'blob', ref, mimeType: current.mimeType, size: current.size })
      continue
    }
    const legacy = parseLegacyBlobRef(current)
    if (legacy) {
      found.push(legacy)
      continue
    }
    const values = Object.values(current)
    for (let i = values.length - 1; i >= 0; i--) stack.push(values[i])
  }
  return found
}
