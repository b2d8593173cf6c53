/**
 * CIDs as atproto uses them: CIDv1, sha2-256, with the dag-cbor codec for data
 * (records, commits, MST nodes) and the raw codec for blobs.
 */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

export { CID }

export const DAG_CBOR_CODEC = 0x71
export const RAW_CODEC = 0x55
export const SHA2_256_CODE = 0x12

/** CIDv1 over already-encoded DAG-CBOR bytes. */
export async function cidForCborBytes(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(DAG_CBOR_CODEC, await sha256.digest(bytes))
}

/** CIDv1 (raw codec) over arbitrary bytes, as used for blobs. */
export async function cidForRawBytes(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(RAW_CODEC, await sha256.digest(bytes))
}

/**
 * "Blessed" CIDs (v1, sha2-256 with a 32-byte digest, dag-cbor or raw) are the only
 * ones atproto generates, and the only ones allowed for commit and MST-node links.
 */
export function isBlessedCid(cid: CID): boolean {
  return (
    cid.version === 1 &&
    (cid.code === DAG_CBOR_CODEC || cid.code === RAW_CODEC) &&
    cid.multihash.code === SHA2_256_CODE &&
    cid.multihash.size === 32
  )
}

/** Parses a CID string; returns null rather than throwing on bad input. */
export function parseCid(value: string): CID | null {
  try {
    return CID.parse(value)
  } catch {
    return null
  }
}

export function asCid(value: unknown): CID | null {
  return CID.asCID(value) ?? null
}
