/**
 * did:plc operations: building, signing, hashing and verifying them.
 * https://web.plc.directory/spec/v0.1/did-plc
 *
 * An operation is signed over the DAG-CBOR encoding of itself without `sig`; the DID is the
 * truncated base32 SHA-256 of the signed genesis operation; each later operation names its
 * predecessor by CID in `prev`.
 */
import { base32 } from 'multiformats/bases/base32'
import { parseDidKey } from '../crypto/did-key.ts'
import { sha256 } from '../crypto/hash.ts'
import type { Keypair } from '../crypto/keypair.ts'
import { verifySignature } from '../crypto/verify.ts'
import { base64UrlDecode, base64UrlEncode } from '../data/base64.ts'
import { encodeCbor } from '../data/cbor.ts'
import { cidForCborBytes, parseCid } from '../data/cid.ts'
import { isValidHandle, normalizeHandle } from '../syntax/handle.ts'
import { PlcOperationError } from './errors.ts'

export const PLC_DID_PREFIX = 'did:plc:'
export const ATPROTO_PDS_SERVICE_TYPE = 'AtprotoPersonalDataServer'
/** The directory accepts between 1 and 5 rotation keys, without duplicates. */
export const MAX_ROTATION_KEYS = 5

const DID_PLC_RE = /^did:plc:[a-z2-7]{24}$/
const SIG_RE = /^[A-Za-z0-9_-]{86}$/

export interface PlcService {
  type: string
  endpoint: string
}

export interface UnsignedPlcOperation {
  type: 'plc_operation'
  /** did:key strings, highest priority first. */
  rotationKeys: string[]
  /** Key ids without `#` (`atproto` is the repo signing key) to did:key strings. */
  verificationMethods: Record<string, string>
  /** URIs, the handle as `at://<handle>` first. */
  alsoKnownAs: string[]
  /** Service ids without `#` (`atproto_pds`) to their type and URL. */
  services: Record<string, PlcService>
  /** CID string of the previous operation; null for the genesis operation. */
  prev: string | null
}

export interface PlcOperation extends UnsignedPlcOperation {
  /** base64url, no padding. */
  sig: string
}

export interface UnsignedPlcTombstone {
  type: 'plc_tombstone'
  prev: string
}

export interface PlcTombstone extends UnsignedPlcTombstone {
  sig: string
}

/** The deprecated genesis format, still present at the start of early DIDs' logs. */
export interface LegacyPlcCreateOperation {
  type: 'create'
  signingKey: string
  recoveryKey: string
  handle: string
  service: string
  prev: null
  sig: string
}

export type SignedPlcOperation = PlcOperation | PlcTombstone | LegacyPlcCreateOperation
export type UnsignedPlcOperationOrTombstone = UnsignedPlcOperation | UnsignedPlcTombstone

export interface GenesisOperationInput {
  /** did:key of the repo signing key. */
  signingKeyDid: string
  handle: string
  pdsEndpoint: string
  /** did:key rotation keys, highest priority first (usually the PDS's own key). */
  rotationKeys: string[]
  /** The account owner's key: placed before `rotationKeys` so that it can override them. */
  recoveryKey?: string
}

export interface UpdateOperationChanges {
  handle?: string
  signingKeyDid?: string
  pdsEndpoint?: string
  rotationKeys?: string[]
  /** Whole replacements, as signPlcOperation takes them. */
  alsoKnownAs?: string[]
  verificationMethods?: Record<string, string>
  services?: Record<string, PlcService>
}

/** Signs the DAG-CBOR of `unsigned` (any `sig` it carries is ignored) with a rotation key. */
export async function signPlcOperation<T extends UnsignedPlcOperationOrTombstone>(
  unsigned: T,
  rotationKey: Keypair,
): Promise<T & { sig: string }> {
  const body = withoutSig(unsigned) as T
  const sig = await rotationKey.sign(encodeCbor(body))
  return { ...body, sig: base64UrlEncode(sig) }
}

/** `did:plc:` + the first 24 base32 characters of SHA-256 over the signed genesis operation. */
export function didForGenesisOperation(signedOp: PlcOperation | LegacyPlcCreateOperation): string {
  if (signedOp.prev !== null) {
    throw new PlcOperationError('a genesis operation must have prev: null')
  }
  if (typeof signedOp.sig !== 'string' || signedOp.sig.length === 0) {
    throw new PlcOperationError('the genesis operation must be signed before deriving its DID')
  }
  // multiformats' base32 is RFC 4648 lowercase without padding; baseEncode omits the multibase prefix.
  const hash = base32.baseEncode(sha256(encodeCbor(signedOp)))
  return PLC_DID_PREFIX + hash.slice(0, 24)
}

export function isValidPlcDid(did: string): boolean {
  return DID_PLC_RE.test(did)
}

/** The dag-cbor CID string of a signed operation: the `prev` of the operation after it. */
export async function cidForPlcOperation(op: SignedPlcOperation): Promise<string> {
  return (await cidForCborBytes(encodeCbor(op))).toString()
}

/**
 * The genesis operation (unsigned) for a new account. With a `recoveryKey`, the rotation keys
 * are `[recoveryKey, ...rotationKeys]`: earlier keys may undo later keys' operations.
 */
export function createGenesisOperation(input: GenesisOperationInput): UnsignedPlcOperation {
  const rotationKeys = input.recoveryKey
    ? [input.recoveryKey, ...input.rotationKeys.filter((key) => key !== input.recoveryKey)]
    : [...input.rotationKeys]
  ensureRotationKeys(rotationKeys)
  return {
    type: 'plc_operation',
    rotationKeys,
    verificationMethods: { atproto: ensureDidKey(input.signingKeyDid, 'signing key') },
    alsoKnownAs: [handleToAka(input.handle)],
    services: {
      atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: ensureEndpoint(input.pdsEndpoint) },
    },
    prev: null,
  }
}

/**
 * The next operation (unsigned) after `lastOp`, whose CID is `lastOpCid`. Fields not named in
 * `changes` are carried over, including other verification methods, services and aliases.
 */
export function createUpdateOperation(
  lastOp: UnsignedPlcOperation | PlcOperation | LegacyPlcCreateOperation | PlcTombstone,
  lastOpCid: string,
  changes: UpdateOperationChanges,
): UnsignedPlcOperation {
  if (lastOp.type === 'plc_tombstone') {
    throw new PlcOperationError('the DID is tombstoned: no operation can follow a tombstone')
  }
  if (!parseCid(lastOpCid)) {
    throw new PlcOperationError(`prev is not a valid CID: ${JSON.stringify(lastOpCid)}`)
  }
  const base = lastOp.type === 'create' ? normalizeLegacyOperation(lastOp) : lastOp
  const op: UnsignedPlcOperation = {
    type: 'plc_operation',
    rotationKeys: [...base.rotationKeys],
    verificationMethods: { ...base.verificationMethods },
    alsoKnownAs: [...base.alsoKnownAs],
    services: { ...base.services },
    prev: lastOpCid,
  }
  if (changes.alsoKnownAs !== undefined) op.alsoKnownAs = [...changes.alsoKnownAs]
  if (changes.verificationMethods !== undefined) {
    op.verificationMethods = { ...changes.verificationMethods }
  }
  if (changes.services !== undefined) op.services = { ...changes.services }
  if (changes.handle !== undefined) {
    const aka = handleToAka(changes.handle)
    const index = op.alsoKnownAs.findIndex((uri) => uri.startsWith('at://'))
    if (index < 0) op.alsoKnownAs.unshift(aka)
    else op.alsoKnownAs[index] = aka
  }
  if (changes.signingKeyDid !== undefined) {
    op.verificationMethods.atproto = ensureDidKey(changes.signingKeyDid, 'signing key')
  }
  if (changes.pdsEndpoint !== undefined) {
    op.services.atproto_pds = {
      type: ATPROTO_PDS_SERVICE_TYPE,
      endpoint: ensureEndpoint(changes.pdsEndpoint),
    }
  }
  if (changes.rotationKeys !== undefined) op.rotationKeys = [...changes.rotationKeys]
  assertWellFormedOperation(op)
  return op
}

export function createTombstoneOperation(lastOpCid: string): UnsignedPlcTombstone {
  if (!parseCid(lastOpCid)) {
    throw new PlcOperationError(`prev is not a valid CID: ${JSON.stringify(lastOpCid)}`)
  }
  return { type: 'plc_tombstone', prev: lastOpCid }
}

/**
 * Checks `op.sig` against `rotationKeys` (in priority order) and returns the key that signed
 * it, or null when none did. Throws only when a rotation key is not a valid did:key.
 */
export async function verifyPlcOperation(
  op: SignedPlcOperation,
  rotationKeys: readonly string[],
): Promise<string | null> {
  if (typeof op.sig !== 'string' || !SIG_RE.test(op.sig)) return null
  const sig = base64UrlDecode(op.sig)
  // Reject non-canonical encodings (stray trailing bits) of the same 64 bytes.
  if (base64UrlEncode(sig) !== op.sig) return null
  const message = encodeCbor(withoutSig(op))
  for (const key of rotationKeys) {
    if (await verifySignature(key, message, sig)) return key
  }
  return null
}

/** The current-format equivalent of a legacy `create` operation (signature kept as is). */
export function normalizeLegacyOperation(op: LegacyPlcCreateOperation): PlcOperation {
  return {
    type: 'plc_operation',
    rotationKeys: [op.recoveryKey, op.signingKey],
    verificationMethods: { atproto: op.signingKey },
    alsoKnownAs: [op.handle.startsWith('at://') ? op.handle : `at://${stripScheme(op.handle)}`],
    services: {
      atproto_pds: {
        type: ATPROTO_PDS_SERVICE_TYPE,
        endpoint: /^https?:\/\//.test(op.service) ? op.service : `https://${op.service}`,
      },
    },
    prev: op.prev,
    sig: op.sig,
  }
}

/** Checks the shape of an operation received as JSON (from a directory or a client). */
export function parsePlcOperation(value: unknown): SignedPlcOperation {
  if (!isRecord(value)) throw new PlcOperationError('operation must be an object')
  const { type } = value
  if (typeof value.sig !== 'string') throw new PlcOperationError('operation has no sig')
  if (type === 'plc_tombstone') {
    if (typeof value.prev !== 'string') throw new PlcOperationError('tombstone needs a prev')
    return { type, prev: value.prev, sig: value.sig }
  }
  if (type === 'create') {
    for (const field of ['signingKey', 'recoveryKey', 'handle', 'service'] as const) {
      if (typeof value[field] !== 'string') {
        throw new PlcOperationError(`legacy create operation has no ${field}`)
      }
    }
    if (value.prev !== null) throw new PlcOperationError('legacy create operation has a prev')
    return value as unknown as LegacyPlcCreateOperation
  }
  if (type !== 'plc_operation') {
    throw new PlcOperationError(`unknown operation type ${JSON.stringify(type)}`)
  }
  if (!isStringArray(value.rotationKeys)) {
    throw new PlcOperationError('rotationKeys must be an array of strings')
  }
  if (!isStringArray(value.alsoKnownAs)) {
    throw new PlcOperationError('alsoKnownAs must be an array of strings')
  }
  const verificationMethods = parseVerificationMethods(value.verificationMethods)
  const services = parseServices(value.services)
  if (value.prev !== null && typeof value.prev !== 'string') {
    throw new PlcOperationError('prev must be a CID string or null')
  }
  return {
    type,
    rotationKeys: value.rotationKeys,
    verificationMethods,
    alsoKnownAs: value.alsoKnownAs,
    services,
    prev: value.prev,
    sig: value.sig,
  }
}

/** An operation's `verificationMethods` from JSON: ids to strings (did:keys, checked later). */
export function parseVerificationMethods(value: unknown): Record<string, string> {
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new PlcOperationError('verificationMethods must map ids to did:key strings')
  }
  return value as Record<string, string>
}

/** An operation's `services` from JSON: ids to `{type, endpoint}`. */
export function parseServices(value: unknown): Record<string, PlcService> {
  if (
    !isRecord(value) ||
    !Object.values(value).every(
      (s) => isRecord(s) && typeof s.type === 'string' && typeof s.endpoint === 'string',
    )
  ) {
    throw new PlcOperationError('services must map ids to {type, endpoint}')
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, PlcService>).map(([id, s]) => [
      id,
      { type: s.type, endpoint: s.endpoint },
    ]),
  )
}

/**
 * Throws PlcOperationError unless `op` is one the directory can accept as an update: 1 to 5
 * distinct rotation keys and verification methods, all supported did:keys.
 */
export function assertWellFormedOperation(op: UnsignedPlcOperation): void {
  ensureRotationKeys(op.rotationKeys)
  assertVerificationMethods(op.verificationMethods)
}

/** Throws PlcOperationError unless every verification method is a supported did:key. */
export function assertVerificationMethods(methods: Record<string, string>): void {
  for (const [id, key] of Object.entries(methods)) ensureDidKey(key, `verification method ${id}`)
}

/** Throws PlcOperationError unless these are 1 to 5 distinct supported did:keys. */
export function assertRotationKeys(keys: string[]): void {
  ensureRotationKeys(keys)
}

/** The rotation keys an operation after `op` must be signed by. */
export function rotationKeysOf(
  op: UnsignedPlcOperation | PlcOperation | LegacyPlcCreateOperation,
): string[] {
  return op.type === 'create' ? normalizeLegacyOperation(op).rotationKeys : op.rotationKeys
}

function withoutSig<T extends object>(op: T): Omit<T, 'sig'> {
  const { sig: _sig, ...rest } = op as T & { sig?: unknown }
  return rest
}

function ensureRotationKeys(keys: string[]): void {
  if (keys.length < 1 || keys.length > MAX_ROTATION_KEYS) {
    throw new PlcOperationError(
      `a DID needs 1 to ${MAX_ROTATION_KEYS} rotation keys (got ${keys.length})`,
    )
  }
  if (new Set(keys).size !== keys.length) {
    throw new PlcOperationError('rotation keys must not repeat')
  }
  for (const key of keys) ensureDidKey(key, 'rotation key')
}

function ensureDidKey(didKey: string, label: string): string {
  try {
    parseDidKey(didKey)
  } catch (err) {
    throw new PlcOperationError(`${label} is not a supported did:key: ${JSON.stringify(didKey)}`, {
      cause: err,
    })
  }
  return didKey
}

function handleToAka(handle: string): string {
  const bare = handle.startsWith('at://') ? handle.slice('at://'.length) : handle
  if (!isValidHandle(bare)) throw new PlcOperationError(`invalid handle ${JSON.stringify(handle)}`)
  return `at://${normalizeHandle(bare)}`
}

function ensureEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new PlcOperationError(`PDS endpoint is not a URL: ${JSON.stringify(endpoint)}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PlcOperationError(`PDS endpoint must be http(s): ${JSON.stringify(endpoint)}`)
  }
  return endpoint
}

function stripScheme(value: string): string {
  return value.replace(/^https?:\/\//, '')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}
