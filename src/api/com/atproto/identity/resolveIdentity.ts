import { getDb } from '../../../../db/index.ts'
import { resolveIdentity as lookUpIdentity } from '../../../../identity/lookup.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** A handle or DID → its DID, bidirectionally verified handle (or `handle.invalid`) and document. */
export const resolveIdentity = defineMethod<{ identifier: string }>({
  nsid: 'com.atproto.identity.resolveIdentity',
  async handler({ params, env, config }) {
    return { body: await lookUpIdentity(getDb(env.DB), config, params.identifier) }
  },
})
