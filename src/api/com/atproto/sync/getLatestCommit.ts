import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { accountStub } from '../../../../bindings.ts'
import { getDb } from '../../../../db/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

/**
 * The repo's head commit and rev, from the account's object (the authority: a relay checking
 * an event it just received must not see an older head).
 */
export const getLatestCommit = defineMethod<{ did: string }>({
  nsid: 'com.atproto.sync.getLatestCommit',
  async handler({ params, env }) {
    const account = await resolveRepoForRead(getDb(env.DB), params.did)
    const head = await accountStub(env, account.did).getHead()
    if (!head) throw new InvalidRequestError(`Could not find repo: ${params.did}`, 'RepoNotFound')
    return { body: { cid: head.cid, rev: head.rev } }
  },
})
