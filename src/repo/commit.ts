/**
 * Signed repository commits (repo format v3, https://atproto.com/specs/repository).
 *
 * The signature covers the DAG-CBOR encoding of the commit without `sig`; the commit CID is
 * the dag-cbor CID of the signed object. `prev` is always written, as null in practice:
 * omitting it broke interoperability.
 */

import { verifySignature } from '../crypto/index.ts'
import { decodeCbor, encodeCbor, encodeCborBlock } from '../data/cbor.ts'
import { CID, DAG_CBOR_CODEC, isBlessedCid } from '../data/cid.ts'
import { isValidDid } from '../syntax/did.ts'
import { isValidTid } from '../syntax/tid.ts'

export class CommitError extends Error {
  override name = 'CommitError'
}

export type UnsignedCommit = {
  did: string
  version: 3
  data: CID
  rev: string
  prev: CID | null
}

export type Commit = UnsignedCommit & { sig: Uint8Array }

/** What parseCommit returns: a v3 commit, or a legacy v2 one that has the same fields. */
export type ParsedCommit = Omit<Commit, 'version'> & { version: 2 | 3 }

/** The members of a keypair that signing needs. */
export type SigningKey = {
  jwtAlg: string
  did(): string
  sign(message: Uint8Array): Promise<Uint8Array>
}

const COMMIT_FIELDS = new Set(['did', 'version', 'data', 'rev', 'prev', 'sig'])

export async function signCommit(unsigned: UnsignedCommit, key: SigningKey): Promise<Commit> {
  const commit: UnsignedCommit = {
    did: unsigned.did,
    version: 3,
    data: unsigned.data,
    rev: unsigned.rev,
    prev: unsigned.prev ?? null,
  }
  checkFields(commit)
  const sig = await key.sign(encodeUnsignedCommit(commit))
  return { ...commit, sig }
}

/** The exact bytes a commit signature covers. */
export function encodeUnsignedCommit(commit: Omit<ParsedCommit, 'sig'>): Uint8Array {
  return encodeCbor({
    did: commit.did,
    version: commit.version,
    data: commit.data,
    rev: commit.rev,
    prev: commit.prev ?? null,
  })
}

/** True when `commit.sig` is a valid signature by the key `didKey` (a `did:key:` string). */
export async function verifyCommitSignature(
  commit: ParsedCommit,
  didKey: string,
): Promise<boolean> {
  return verifySignature(didKey, encodeUnsignedCommit(commit), commit.sig)
}

/** The signed commit as a storable block. */
export async function commitToBlock(commit: Commit): Promise<{ cid: CID; bytes: Uint8Array }> {
  checkFields(commit)
  if (!(commit.sig instanceof Uint8Array)) throw new CommitError('commit sig must be bytes')
  return encodeCborBlock({
    did: commit.did,
    version: commit.version,
    data: commit.data,
    rev: commit.rev,
    prev: commit.prev ?? null,
    sig: commit.sig,
  })
}

/** Decodes a commit block and checks its shape; does not check the signature. */
export function parseCommit(bytes: Uint8Array): ParsedCommit {
  let value: unknown
  try {
    value = decodeCbor(bytes)
  } catch (err) {
    throw new CommitError(`commit is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || CID.asCID(value)) {
    throw new CommitError('commit is not a map')
  }
  const fields = value as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    // Unknown fields would be lost on re-encoding and break signature verification.
    if (!COMMIT_FIELDS.has(key)) throw new CommitError(`commit has unknown field "${key}"`)
  }
  if (fields.version !== 3 && fields.version !== 2) {
    throw new CommitError(`unsupported commit version ${String(fields.version)}`)
  }
  if (!('prev' in fields)) throw new CommitError('commit prev is missing (must be null or a CID)')
  if (!(fields.sig instanceof Uint8Array)) throw new CommitError('commit sig must be bytes')
  const commit = {
    did: fields.did,
    version: fields.version,
    data: CID.asCID(fields.data) ?? fields.data,
    rev: fields.rev,
    prev: fields.prev === null ? null : (CID.asCID(fields.prev) ?? fields.prev),
    sig: fields.sig,
  }
  checkFields(commit)
  return commit as ParsedCommit
}

function checkFields(commit: Record<keyof UnsignedCommit, unknown>): void {
  if (typeof commit.did !== 'string' || !isValidDid(commit.did)) {
    throw new CommitError(`commit did is not a valid DID: ${String(commit.did)}`)
  }
  if (!isRepoLink(commit.data)) throw new CommitError('commit data must be a sha2-256 dag-cbor CID')
  if (typeof commit.rev !== 'string' || !isValidTid(commit.rev)) {
    throw new CommitError(`commit rev is not a TID: ${String(commit.rev)}`)
  }
  if (commit.prev !== null && !isRepoLink(commit.prev)) {
    throw new CommitError('commit prev must be null or a sha2-256 dag-cbor CID')
  }
}

function isRepoLink(value: unknown): boolean {
  const cid = CID.asCID(value)
  return cid !== null && isBlessedCid(cid) && cid.code === DAG_CBOR_CODEC
}
