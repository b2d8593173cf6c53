import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { getDb } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** Deprecated (getLatestCommit): the head commit CID. */
export const getHead = defineMethod<{ did: string }>({
  nsid: 'com.atproto.sync.getHead',
  async handler({ params, env }) {
    const account = await resolveRepoForRead(getDb(env.DB), params.did)
    const head = await accountStub(env, account.did).getHead()
    if (!head) {
      throw new InvalidRequestError(`Could not find root for DID: ${params.did}`, 'HeadNotFound')
    }
    return { body: { root: head.cid } }
  },
})
