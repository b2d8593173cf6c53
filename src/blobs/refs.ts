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
  const refs = findBlobRefs(jsonToIpld(JSON.parse(json)))
  return [...new Set(refs.map((ref) => ref.ref.toString()))]
}
