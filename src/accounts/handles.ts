/**
 * The rules a handle must meet to be registered here (createAccount, updateHandle): valid
 * syntax, a usable TLD, and either one label under one of our handle domains or a custom
 * domain that already resolves to the account's DID.
 */
import type { Config } from '../config.ts'
import { getAccountByHandle } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { RequestRefusedError } from '../errors.ts'
import { identityServices } from '../identity/services.ts'
import { isDisallowedHandleTld, isValidHandle, normalizeHandle } from '../syntax/index.ts'

/** A handle that cannot be registered: InvalidHandle, UnsupportedDomain or HandleNotAvailable. */
export class HandleError extends RequestRefusedError {
  override name = 'HandleError'
}

/** Bounds on the label in front of one of our domains (`alice` in `alice.pds.example`). */
const MIN_LABEL = 3
const MAX_LABEL = 18

/**
 * Returns the normalized handle, or throws InvalidHandle / UnsupportedDomain /
 * HandleNotAvailable. `did` is the account that will own it, when already known; a custom
 * domain needs it.
 */
export async function checkHandleForAccount(
  db: Db,
  config: Config,
  requested: string,
  did: string | null,
): Promise<string> {
  const handle = normalizeHandle(requested)
  if (!isValidHandle(handle)) throw new HandleError('Handle is not valid', 'InvalidHandle')
  if (isDisallowedHandleTld(handle)) {
    throw new HandleError('Handle TLD is invalid or disallowed', 'InvalidHandle')
  }
  const domain = config.handleDomains.find((d) => handle.endsWith(d))
  if (domain) {
    const label = handle.slice(0, -domain.length)
    if (label.includes('.')) {
      throw new HandleError(`Handle must be a single label in front of ${domain}`, 'InvalidHandle')
    }
    if (label.length < MIN_LABEL) throw new HandleError('Handle too short', 'InvalidHandle')
    if (label.length > MAX_LABEL) throw new HandleError('Handle too long', 'InvalidHandle')
  } else {
    if (!did) {
      throw new HandleError(
        `Handle must be under one of ${config.handleDomains.join(', ')}`,
        'UnsupportedDomain',
      )
    }
    const resolved = await identityServices(config).handleResolver.resolve(handle)
    if (resolved !== did) {
      throw new HandleError(
        `${handle} does not resolve to ${did} (DNS TXT _atproto or /.well-known/atproto-did)`,
        'InvalidHandle',
      )
    }
  }
  const owner = await getAccountByHandle(db, handle)
  if (owner && owner.did !== did) {
    throw new HandleError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
  }
  return handle
}
