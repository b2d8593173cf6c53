import { resolveDidDocument } from '../../../../identity/lookup.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** DID → DID document, through the cached did:plc / did:web resolver. No auth, as the lexicon. */
export const resolveDid = defineMethod<{ did: string }>({
  nsid: 'com.atproto.identity.resolveDid',
  async handler({ params, config }) {
    return { body: { didDoc: await resolveDidDocument(config, params.did) } }
  },
})
