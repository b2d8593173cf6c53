/**
 * Identity lookups served by resolveDid and resolveIdentity: DID documents through the cached
 * resolver, handles from our own accounts first, and the bidirectional handle check
 * [spec:handle]: a handle counts only when the DID document claims it and it resolves back to
 * that DID.
 */
import type { Config } from '../config.ts'
import { getAccountByDid, getAccountByHandle } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { DomainError, type RefusalKind } from '../errors.ts'
import { INVALID_HANDLE, normalizeHandle } from '../syntax/handle.ts'
import { type DidDocument, getHandle } from './did-document.ts'
import { DidResolutionError } from './errors.ts'
import { HttpFetchError } from './http.ts'
import { PlcError } from './plc-client.ts'
import { identityServices } from './services.ts'

/**
 * A DID or handle that cannot be looked up: the request's fault (400: DidNotFound,
 * HandleNotFound, InvalidRequest) or, when the directory or host is unreachable, upstream's
 * (502 UpstreamFailure).
 */
export class IdentityLookupError extends DomainError {
  override name = 'IdentityLookupError'

  constructor(message: string, error = 'InvalidRequest', kind: RefusalKind = 'invalid-request') {
    super(kind, error, message)
  }
}

export interface IdentityInfo {
  did: string
  /** The verified handle, or `handle.invalid`. */
  handle: string
  didDoc: DidDocument
}

/** The DID document; DidNotFound (400) when there is none, UpstreamFailure when unreachable. */
export async function resolveDidDocument(config: Config, did: string): Promise<DidDocument> {
  let doc: DidDocument | null
  try {
    doc = await identityServices(config).didResolver.resolve(did)
  } catch (err) {
    throw didResolutionXrpcError(err)
  }
  if (!doc) throw new IdentityLookupError(`DID not found: ${did}`, 'DidNotFound')
  return doc
}

/**
 * The error for a failed DID resolution: the directory or host unreachable is upstream's
 * (502), a DID or document we cannot use is the request's (400). Other errors are rethrown.
 */
export function didResolutionXrpcError(err: unknown): IdentityLookupError {
  if (!(err instanceof DidResolutionError)) throw err
  const cause = err.cause
  const unreachable =
    cause instanceof HttpFetchError ||
    (cause instanceof PlcError && (cause.status === 0 || cause.status >= 500))
  return unreachable
    ? new IdentityLookupError(err.message, 'UpstreamFailure', 'upstream-failure')
    : new IdentityLookupError(err.message)
}

/** The DID a handle names: our accounts from D1, others by DNS or HTTPS; null when none. */
export async function resolveHandleToDid(
  db: Db,
  config: Config,
  handle: string,
): Promise<string | null> {
  const normalized = normalizeHandle(handle)
  const local = await getAccountByHandle(db, normalized)
  if (local) return local.status === 'takendown' ? null : local.did
  // A handle under our own domains that no account holds cannot resolve anywhere else.
  if (config.handleDomains.some((domain) => normalized.endsWith(domain))) return null
  return identityServices(config).handleResolver.resolve(normalized)
}

export async function resolveIdentity(
  db: Db,
  config: Config,
  identifier: string,
): Promise<IdentityInfo> {
  if (identifier.startsWith('did:')) {
    const didDoc = await resolveDidDocument(config, identifier)
    const claimed = getHandle(didDoc)
    const verified = claimed !== null && (await handleNamesDid(db, config, claimed, identifier))
    return { did: identifier, handle: verified ? claimed : INVALID_HANDLE, didDoc }
  }
  const handle = normalizeHandle(identifier)
  const did = await resolveHandleToDid(db, config, handle)
  if (!did) throw new IdentityLookupError(`Unable to resolve handle: ${handle}`, 'HandleNotFound')
  const didDoc = await resolveDidDocument(config, did)
  return { did, handle: getHandle(didDoc) === handle ? handle : INVALID_HANDLE, didDoc }
}

async function handleNamesDid(
  db: Db,
  config: Config,
  handle: string,
  did: string,
): Promise<boolean> {
  // Our own account: D1 holds its handle, no lookup needed.
  const local = await getAccountByDid(db, did)
  if (local && local.handle === handle) return local.status !== 'takendown'
  return (await resolveHandleToDid(db, config, handle)) === did
}
