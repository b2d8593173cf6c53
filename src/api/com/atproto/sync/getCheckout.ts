import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { getDb } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/** Deprecated (getRepo): the whole repo at its head, as a CAR stream. */
export const getCheckout = defineMethod<{ did: string }>({
  nsid: 'com.atproto.sync.getCheckout',
  async handler({ params, env }) {
    const account = await resolveRepoForRead(getDb(env.DB), params.did)
    const body = await accountStub(env, account.did).exportRepo({})
    if (!body) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body }
  },
})
