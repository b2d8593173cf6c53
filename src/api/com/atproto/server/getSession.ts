import { getAccountByDid } from '../../../../db/accounts.ts'
import { getDb } from '../../../../db/index.ts'
import { sessionView } from '../../../../sessions/view.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/** Who the session belongs to. */
export const getSession = defineMethod({
  nsid: 'com.atproto.server.getSession',
  auth: accessStandard,
  async handler({ auth, env }) {
    const account = await getAccountByDid(getDb(env.DB), auth.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    return { body: sessionView(account, { showEmail: auth.appPassword === null }) }
  },
})
