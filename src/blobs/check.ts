/**
 * The blob rule of record writes [spec:blob]: every blob a new record version references must
 * have been uploaded by the same account (temporary or already referenced), with the size and
 * MIME type the reference declares. The Lexicon's `accept` and `maxSize` are checked against
 * the declared values, so checking those against the upload makes them hold for the bytes.
 */
import type { BlobRef } from '../data/blob-ref.ts'
import { findBlobRows } from '../db/blobs.ts'
import type { Db } from '../db/index.ts'
import { RequestRefusedError } from '../errors.ts'

/** A record's blob ref that does not match an upload of this account. */
export class BlobRefError extends RequestRefusedError {
  override name = 'BlobRefError'
}

export async function checkBlobRefs(db: Db, did: string, refs: BlobRef[]): Promise<void> {
  if (refs.length === 0) return
  const cids = [...new Set(refs.map((ref) => ref.ref.toString()))]
  const rows = new Map((await findBlobRows(db, did, cids)).map((row) => [row.cid, row]))
  for (const ref of refs) {
    const cid = ref.ref.toString()
    const row = rows.get(cid)
    if (!row) throw new BlobRefError(`Could not find blob: ${cid}`, 'BlobNotFound')
    if (ref.size !== row.size) {
      throw new BlobRefError(
        `Blob ${cid} was uploaded with ${row.size} bytes, but the record says ${ref.size}`,
      )
    }
    if (ref.mimeType.toLowerCase() !== row.mimeType) {
      throw new BlobRefError(
        `Blob ${cid} was uploaded as ${row.mimeType}, but the record says ${ref.mimeType}`,
      )
    }
  }
}
