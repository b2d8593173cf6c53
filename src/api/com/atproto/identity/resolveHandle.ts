import { getAccountByHandle } from '../../../../db/accounts.ts'
import { getDb } from '../../../../db/index.ts'
import { identityServices } from '../../../../services/identity.ts'
import { normalizeHandle } from '../../../../syntax/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** Handle → DID: our own accounts from D1, anyone else through DNS TXT or HTTPS well-known. */
export const resolveHandle = defineMethod<{ handle: string }>({
  nsid: 'com.atproto.identity.resolveHandle',
  async handler({ params, env, config }) {
    const handle = normalizeHandle(params.handle)
    const local = await getAccountByHandle(getDb(env.DB), handle)
    if (local && local.status !== 'takendown') return { body: { did: local.did } }
    // A handle under our own domains that no account holds cannot resolve anywhere else.
    const ours = config.handleDomains.some((domain) => handle.endsWith(domain))
    const did = ours ? null : await identityServices(config).handleResolver.resolve(handle)
    if (!did) throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
    return { body: { did } }
  },
})
