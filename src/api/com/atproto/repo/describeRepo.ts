import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { getDb } from '../../../../db/index.ts'
import { listCollections } from '../../../../db/record-reads.ts'
import { getHandle } from '../../../../identity/index.ts'
import { identityServices } from '../../../../identity/services.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** Who a repo belongs to, its DID document, and which collections it holds. */
export const describeRepo = defineMethod<{ repo: string }>({
  nsid: 'com.atproto.repo.describeRepo',
  async handler({ params, env, config }) {
    const db = getDb(env.DB)
    const account = await resolveRepoForRead(db, params.repo)
    const [didDoc, collections] = await Promise.all([
      identityServices(config)
        .didResolver.resolve(account.did)
        .catch(() => null),
      listCollections(db, account.did),
    ])
    const handleIsCorrect = didDoc !== null && getHandle(didDoc) === account.handle
    return {
      body: {
        handle: account.handle,
        did: account.did,
        didDoc: didDoc ?? {},
        collections,
        handleIsCorrect,
      },
    }
  },
})
