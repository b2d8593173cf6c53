/**
 * Whether an account's DID document points at this PDS: its `#atproto_pds` endpoint is our
 * public URL and its `#atproto` key is the account's signing key. checkAccountStatus reports
 * it (`validDid`) and activateAccount requires it, so that a migrated account does not go live
 * here before its identity does.
 */
import type { Config } from '../config.ts'
import { DidNotFoundError, DidResolutionError, parseDidDocument } from './index.ts'
import { identityServices } from './services.ts'

export type DidCheck = { valid: true } | { valid: false; problem: string }

/**
 * Resolves the DID afresh (the document changes during a migration). A DID that does not
 * exist or does not name us is `valid: false`; a directory that cannot be reached throws
 * DidResolutionError.
 */
export async function checkDidForThisPds(
  config: Config,
  did: string,
  signingKeyDid: string,
): Promise<DidCheck> {
  let parsed: ReturnType<typeof parseDidDocument>
  try {
    const doc = await identityServices(config).didResolver.resolve(did, { forceRefresh: true })
    if (!doc) return { valid: false, problem: `The DID ${did} does not resolve` }
    parsed = parseDidDocument(doc)
  } catch (err) {
    if (err instanceof DidNotFoundError) {
      return { valid: false, problem: `The DID ${did} does not resolve` }
    }
    if (err instanceof DidResolutionError) throw err
    return { valid: false, problem: `The DID document of ${did} is malformed` }
  }
  const endpoint = parsed.pdsEndpoint?.replace(/\/+$/, '') ?? null
  if (endpoint !== config.publicUrl) {
    return {
      valid: false,
      problem: `The DID document's atproto_pds endpoint is ${endpoint ?? 'missing'}, not ${config.publicUrl}`,
    }
  }
  if (parsed.signingKey !== signingKeyDid) {
    return {
      valid: false,
      problem: "The DID document's atproto verification method is not this account's signing key",
    }
  }
  return { valid: true }
}
