/**
 * Turning the records of a write request into what the account's Durable Object commits:
 * each record checked (`$type`, Lexicon, record key, data model, size) and encoded to
 * DAG-CBOR in the Worker, so the single-writer object spends its time on the commit alone.
 */
import type { PreparedWrite, WriteLimit, WriteResult } from '../account/types.ts'
import { accountStub, unwrapAccount } from '../bindings.ts'
import { checkBlobRefs } from '../blobs/check.ts'
import { type BlobRef, findBlobRefs } from '../data/blob-ref.ts'
import { decodeCbor, encodeCborBlock } from '../data/cbor.ts'
import { parseCid } from '../data/cid.ts'
import { ipldToJson } from '../data/json.ts'
import { utf8Length } from '../data/utf8.ts'
import { ensureDataModelValue } from '../data/validate.ts'
import { pinBlobs, unpinBlobs } from '../db/blobs.ts'
import { getDb } from '../db/index.ts'
import { BOOKMARK_HEADER } from '../db/session.ts'
import { RequestRefusedError } from '../errors.ts'
import { getDefaultLexicons, LexiconValidationError } from '../lexicon/index.ts'
import { MAX_RECORD_BYTES, MAX_RECORD_JSON_BYTES } from '../limits.ts'
import { AtUri, isValidNsid, isValidRecordKey, nextTid } from '../syntax/index.ts'

/** A write request that cannot be committed as sent. */
export class InvalidWriteError extends RequestRefusedError {
  override name = 'InvalidWriteError'
}

/** The blob refs prepareWrites found in each write's record, for commitWrites to check. */
const blobRefsByWrite = new WeakMap<PreparedWrite, BlobRef[]>()

export type ValidationStatus = 'valid' | 'unknown'

export interface RecordWriteRequest {
  action: 'create' | 'update' | 'put'
  collection: string
  rkey?: string
  record: unknown
  swapRecord?: string | null
}

export interface DeleteWriteRequest {
  action: 'delete'
  collection: string
  rkey: string
  swapRecord?: string | null
}

export type WriteRequest = RecordWriteRequest | DeleteWriteRequest

export interface PreparedWrites {
  writes: PreparedWrite[]
  /** Per write, in order: how its record was validated (null for deletes). */
  validation: (ValidationStatus | null)[]
}

/**
 * `validate`: true requires a known Lexicon and a valid record; undefined validates records
 * of known collections and accepts others as `unknown`; false skips Lexicon validation.
 */
export async function prepareWrites(
  requests: WriteRequest[],
  validate: boolean | undefined,
): Promise<PreparedWrites> {
  const writes: PreparedWrite[] = []
  const validation: (ValidationStatus | null)[] = []
  for (const [i, request] of requests.entries()) {
    const where = requests.length > 1 ? `writes/${i}: ` : ''
    try {
      const { write, status } = await prepareOne(request, validate)
      writes.push(write)
      validation.push(status)
    } catch (err) {
      if (err instanceof InvalidWriteError && where) {
        throw new InvalidWriteError(`${where}${err.message}`, err.error)
      }
      throw err
    }
  }
  return { writes, validation }
}

async function prepareOne(
  request: WriteRequest,
  validate: boolean | undefined,
): Promise<{ write: PreparedWrite; status: ValidationStatus | null }> {
  const { collection } = request
  if (!isValidNsid(collection)) throw new InvalidWriteError(`Invalid collection: ${collection}`)
  const rkey = request.rkey ?? (request.action === 'create' ? nextTid() : undefined)
  if (rkey === undefined || !isValidRecordKey(rkey)) {
    throw new InvalidWriteError(`Invalid record key: ${String(rkey)}`)
  }
  const swapRecord = checkSwap(request.swapRecord, 'swapRecord')
  if (request.action === 'delete') {
    return { write: { action: 'delete', collection, rkey, swapRecord }, status: null }
  }
  const record = withType(request.record, collection)
  const status = validateRecord(collection, rkey, record, validate)
  let block: Awaited<ReturnType<typeof encodeCborBlock>>
  try {
    ensureDataModelValue(record)
    block = await encodeCborBlock(record)
  } catch (err) {
    throw new InvalidWriteError(`Invalid record: ${err instanceof Error ? err.message : err}`)
  }
  if (block.bytes.byteLength > MAX_RECORD_BYTES) {
    throw new InvalidWriteError(
      `Record is too large: ${block.bytes.byteLength} bytes of CBOR, at most ${MAX_RECORD_BYTES}`,
    )
  }
  checkJsonSize(record, block.bytes.byteLength)
  const write: PreparedWrite = {
    action: request.action,
    collection,
    rkey,
    record: block.bytes,
    cid: block.cid.toString(),
    swapRecord,
  }
  blobRefsByWrite.set(write, typedBlobRefs(record))
  return { write, status }
}

/**
 * The record's JSON, which the D1 index stores, must fit a D1 value: it can be several
 * times the CBOR, so the CBOR limit alone does not bound it. Only records whose CBOR could
 * expand past the bound are serialized to tell.
 */
function checkJsonSize(record: unknown, cborBytes: number): void {
  if (cborBytes * JSON_EXPANSION_BOUND <= MAX_RECORD_JSON_BYTES) return
  const bytes = utf8Length(JSON.stringify(ipldToJson(record)))
  if (bytes > MAX_RECORD_JSON_BYTES) {
    throw new InvalidWriteError(
      `Record is too large: ${bytes} bytes as JSON, at most ${MAX_RECORD_JSON_BYTES}`,
    )
  }
}

/**
 * JSON bytes per CBOR byte, at most: an empty byte string in an array is 1 byte of CBOR and
 * 14 of JSON (`{"$bytes":""},`); a long string of control characters approaches 6.
 */
const JSON_EXPANSION_BOUND = 14

/** Legacy `{cid, mimeType}` refs are left alone: new records never carry them. */
function typedBlobRefs(record: unknown): BlobRef[] {
  return findBlobRefs(record).filter((ref): ref is BlobRef => ref.$type === 'blob')
}

/** A record's `$type` must name its collection; a missing one is filled in. */
function withType(record: unknown, collection: string): Record<string, unknown> {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new InvalidWriteError('Record must be an object')
  }
  const value = record as Record<string, unknown>
  if (value.$type === undefined) return { ...value, $type: collection }
  if (value.$type !== collection) {
    throw new InvalidWriteError(
      `Invalid $type: expected ${collection}, got ${JSON.stringify(value.$type)}`,
    )
  }
  return value
}

function validateRecord(
  collection: string,
  rkey: string,
  record: Record<string, unknown>,
  validate: boolean | undefined,
): ValidationStatus {
  if (validate === false) return 'unknown'
  const lexicons = getDefaultLexicons()
  const known = lexicons.getDef(collection)?.type === 'record'
  if (!known) {
    if (validate === true) {
      throw new InvalidWriteError(`Lexicon not found for collection ${collection}`)
    }
    return 'unknown'
  }
  try {
    lexicons.assertValidRecordKey(collection, rkey)
    lexicons.assertValidRecord(collection, record)
  } catch (err) {
    if (err instanceof LexiconValidationError) throw new InvalidWriteError(err.message)
    throw err
  }
  return 'valid'
}

/** A swap CID must be a real CID; `null` (must not exist) and absence pass through. */
export function checkSwap<T extends string | null | undefined>(value: T, field: string): T {
  if (typeof value === 'string' && !parseCid(value)) {
    throw new InvalidWriteError(`${field} is not a valid CID: ${value}`)
  }
  return value
}

/**
 * Commits the prepared writes in the account's Durable Object, once every blob their records
 * reference is known to be this account's upload (BlobNotFound otherwise). The object counts
 * the write against `limits` first (the method's per-account write limits).
 */
export async function commitWrites(
  env: Env,
  did: string,
  writes: PreparedWrite[],
  swapCommit: string | null | undefined,
  limits: readonly WriteLimit[] = [],
): Promise<WriteResult> {
  const swap = checkSwap(swapCommit, 'swapCommit')
  const refs = writes.flatMap((write) => {
    if (!write.record) return []
    return blobRefsByWrite.get(write) ?? typedBlobRefs(decodeCbor(write.record))
  })
  const db = getDb(env.DB)
  await checkBlobRefs(db, did, refs)
  // Before the commit point: once the write is acknowledged its blobs must outlive the grace
  // period however long the index delivery takes. A refused write gives them back; a call
  // whose outcome is unknown keeps them (a blob kept too long, never one deleted too soon).
  const pinned = await pinBlobs(db, did, [...new Set(refs.map((ref) => ref.ref.toString()))])
  const result = await accountStub(env, did).applyWrites({
    writes,
    swapCommit: swap,
    limits: [...limits],
  })
  if (!result.ok) await unpinBlobs(db, did, pinned)
  return unwrapAccount(Promise.resolve(result))
}

/**
 * What a write's answer carries besides its body: the new rev, and the D1 bookmark of its index
 * write, which the dispatcher sends back (src/db/session.ts) so the writer reads its write.
 */
export function writeHeaders(result: WriteResult): Record<string, string> {
  const headers: Record<string, string> = { 'Atproto-Repo-Rev': result.commit.rev }
  if (result.bookmark) headers[BOOKMARK_HEADER] = result.bookmark
  return headers
}

/**
 * Writes one record (createRecord, putRecord) and builds the answer both methods give:
 * the record's URI and CID, the commit, and how the record was validated.
 */
export async function writeOneRecord(
  env: Env,
  did: string,
  request: RecordWriteRequest,
  opts: {
    validate: boolean | undefined
    swapCommit: string | null | undefined
    limits: readonly WriteLimit[]
  },
): Promise<{ body: Record<string, unknown>; headers: Record<string, string> }> {
  const { writes, validation } = await prepareWrites([request], opts.validate)
  const result = await commitWrites(env, did, writes, opts.swapCommit, opts.limits)
  const write = writes[0]!
  return {
    body: {
      uri: AtUri.make(did, write.collection, write.rkey).toString(),
      cid: write.cid,
      commit: result.commit,
      validationStatus: validation[0],
    },
    headers: writeHeaders(result),
  }
}
