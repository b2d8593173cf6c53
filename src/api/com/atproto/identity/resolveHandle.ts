import { getAccountByHandle, isActive } from '../../../../db/accounts.ts'
import { readOrAskPrimary } from '../../../../db/session.ts'
import { identityServices } from '../../../../identity/services.ts'
import { normalizeHandle } from '../../../../syntax/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * Handle → DID: our own active accounts from D1, anyone else through DNS TXT or HTTPS
 * well-known. An inactive local account does not answer for its handle (as the reference PDS
 * and our /.well-known/atproto-did): after a migration the handle resolves where it lives now.
 */
export const resolveHandle = defineMethod('com.atproto.identity.resolveHandle', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, config, db }) {
    const handle = normalizeHandle(params.handle)
    // A handle just taken (an #identity event out) may not have reached the nearest replica.
    const local = await readOrAskPrimary(
      db,
      (db) => getAccountByHandle(db, handle),
      (account) => account !== null && isActive(account),
    )
    if (local && isActive(local)) return { body: { did: local.did } }
    // A handle under our own domains that no account holds cannot resolve anywhere else.
    const ours = config.handleDomains.some((domain) => handle.endsWith(domain))
    const did = ours ? null : await identityServices(config).handleResolver.resolve(handle)
    if (!did) throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
    return { body: { did } }
  },
})
