/** The blobs a record references, as the record index and the write check need them. */
import { findBlobRefs } from '../data/blob-ref.ts'
import { jsonToIpld } from '../data/json.ts'

/**
 * CIDs (deduplicated, in document order) of every blob a record in atproto JSON form
 * references, legacy `{cid, mimeType}` refs included. Records without any (most) cost a
 * substring search.
 */
export function blobCidsOfJsonRecord(json: string): string[] {
  if (!json.includes('"mimeType"')) return []
  return blobCidsOfRecord(jsonToIpld(JSON.parse(json)))
}

/** The same for a record in the data model (decoded DAG-CBOR). */
export function blobCidsOfRecord(value: unknown): string[] {
  return [...new Set(findBlobRefs(value).map((ref) => ref.ref.toString()))]
}
