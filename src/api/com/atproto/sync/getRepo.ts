import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { getDb } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

interface Params {
  did: string
  since?: string
}

/**
 * The repo as a CAR, streamed from the account's object as the client reads it (memory does
 * not grow with the repo). With `since`, only the blocks that are new after that rev.
 */
export const getRepo = defineMethod<Params>({
  nsid: 'com.atproto.sync.getRepo',
  async handler({ params, env }) {
    const account = await resolveRepoForRead(getDb(env.DB), params.did)
    const body = await accountStub(env, account.did).exportRepo({ since: params.since ?? null })
    if (!body) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { encoding: 'application/vnd.ipld.car', body }
  },
})
