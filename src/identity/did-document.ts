/**
 * DID documents as atproto reads them: the handle from `alsoKnownAs`, the repo signing key
 * from the `#atproto` verification method and the PDS from the `#atproto_pds` service.
 * https://atproto.com/specs/did
 */
import { didKeyFromVerificationMethod } from '../crypto/did-key.ts'
import { isValidDid } from '../syntax/did.ts'
import { isValidHandle, normalizeHandle } from '../syntax/handle.ts'
import { DidDocumentError } from './errors.ts'
import { ATPROTO_PDS_SERVICE_TYPE } from './plc-operation.ts'

export interface DidVerificationMethod {
  id: string
  type: string
  controller: string
  publicKeyMultibase?: string
}

export interface DidService {
  id: string
  type: string | string[]
  /** DID Core also allows maps and sets; atproto only uses a URL string. */
  serviceEndpoint: unknown
}

export interface DidDocument {
  '@context'?: unknown
  id: string
  alsoKnownAs?: string[]
  verificationMethod?: DidVerificationMethod[]
  service?: DidService[]
}

export interface ParsedDidDocument {
  did: string
  /** The first valid `at://` handle, lowercased; null when there is none. */
  handle: string | null
  /** did:key of the `#atproto` key; null when absent or unreadable. */
  signingKey: string | null
  /** URL of the `#atproto_pds` service; null when absent or not an http(s) URL. */
  pdsEndpoint: string | null
  document: DidDocument
}

/** Checks the parts of a DID document that atproto reads, and returns it typed. */
export function ensureDidDocument(json: unknown): DidDocument {
  if (!isRecord(json)) throw new DidDocumentError('DID document must be a JSON object')
  if (typeof json.id !== 'string' || !isValidDid(json.id)) {
    throw new DidDocumentError('DID document has no valid id')
  }
  if (json.alsoKnownAs !== undefined && !isArrayOf(json.alsoKnownAs, isString)) {
    throw new DidDocumentError('alsoKnownAs must be an array of strings')
  }
  if (json.verificationMethod !== undefined && !isArrayOf(json.verificationMethod, isMethod)) {
    throw new DidDocumentError('verificationMethod must be an array of {id, type, controller}')
  }
  if (json.service !== undefined && !isArrayOf(json.service, isService)) {
    throw new DidDocumentError('service must be an array of {id, type, serviceEndpoint}')
  }
  return json as unknown as DidDocument
}

export function parseDidDocument(json: unknown): ParsedDidDocument {
  const document = ensureDidDocument(json)
  return {
    did: document.id,
    handle: getHandle(document),
    signingKey: getSigningKey(document),
    pdsEndpoint: getPdsEndpoint(document),
    document,
  }
}

export function getHandle(doc: DidDocument): string | null {
  for (const uri of doc.alsoKnownAs ?? []) {
    if (!uri.startsWith('at://')) continue
    const handle = uri.slice('at://'.length)
    if (isValidHandle(handle)) return normalizeHandle(handle)
  }
  return null
}

/** did:key of the first verification method with id `#atproto` (relative or absolute). */
export function getSigningKey(doc: DidDocument): string | null {
  return getVerificationMethodKey(doc, '#atproto')
}

export function getVerificationMethodKey(doc: DidDocument, fragment: string): string | null {
  const method = doc.verificationMethod?.find((vm) => matchesFragment(doc, vm.id, fragment))
  if (!method) return null
  try {
    return didKeyFromVerificationMethod(method)
  } catch {
    return null
  }
}

export function getPdsEndpoint(doc: DidDocument): string | null {
  return getServiceEndpoint(doc, '#atproto_pds', ATPROTO_PDS_SERVICE_TYPE)
}

/**
 * The http(s) URL of the first service whose id is `fragment` (e.g. `#bsky_appview`), relative
 * or absolute, and, when `type` is given, of that type.
 */
export function getServiceEndpoint(
  doc: DidDocument,
  fragment: string,
  type?: string,
): string | null {
  const service = doc.service?.find((s) => matchesFragment(doc, s.id, fragment))
  if (!service) return null
  if (type !== undefined && service.type !== type) return null
  const endpoint = service.serviceEndpoint
  if (typeof endpoint !== 'string') return null
  try {
    const url = new URL(endpoint)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
    if (url.username || url.password || url.search || url.hash) return null
  } catch {
    return null
  }
  return endpoint
}

function matchesFragment(doc: DidDocument, id: string, fragment: string): boolean {
  return id === fragment || id === doc.id + fragment
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isString(value: unknown): value is string {
  return typeof value === 'string'
}

function isArrayOf<T>(value: unknown, check: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.every(check)
}

function isMethod(value: unknown): value is DidVerificationMethod {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.type === 'string' &&
    typeof value.controller === 'string' &&
    (value.publicKeyMultibase === undefined || typeof value.publicKeyMultibase === 'string')
  )
}

function isService(value: unknown): value is DidService {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (typeof value.type === 'string' || isArrayOf(value.type, isString)) &&
    'serviceEndpoint' in value
  )
}
