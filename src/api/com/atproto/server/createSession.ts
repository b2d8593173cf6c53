import {
  hashPassword,
  isAppPasswordFormat,
  verifyAppPassword,
  verifyPassword,
} from '../../../../auth/index.ts'
import type { Config } from '../../../../config.ts'
import { getAccountByIdentifier } from '../../../../db/accounts.ts'
import type { Db } from '../../../../db/index.ts'
import { listAppPasswords } from '../../../../db/sessions.ts'
import type { XrpcMethodTypes } from '../../../../lexicon/generated/method-types.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { sessionView } from '../../../../services/session-view.ts'
import { openSession, type SessionGrant } from '../../../../services/sessions.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'

type Types = XrpcMethodTypes['com.atproto.server.createSession']

/**
 * A stand-in hash at the configured cost, so that an unknown identifier costs the same as a
 * wrong password and the response time does not tell which identifiers exist.
 */
const dummyHashes = new Map<string, Promise<string>>()
function dummyHash(config: Config): Promise<string> {
  const key = JSON.stringify(config.passwordHash)
  let hash = dummyHashes.get(key)
  if (!hash) {
    hash = hashPassword('not the password of anyone', config.passwordHash)
    dummyHashes.set(key, hash)
  }
  return hash
}

/** Log in with a handle, email or DID and the account password or an app password. */
export const createSession = defineMethod<Types['params'], Types['input']>({
  nsid: 'com.atproto.server.createSession',
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [
    { limit: LIMITS.createSessionPerIp, key: 'ip' },
    { limit: LIMITS.createSessionPerIdentifier, key: ({ input }) => input.identifier },
  ],
  async handler({ input, config, db }) {
    const account = await getAccountByIdentifier(db, input.identifier)
    const grant = account ? await checkCredentials(db, account, input.password) : null
    if (!account) await verifyPassword(input.password, await dummyHash(config))
    if (!account || !grant) {
      throw new AuthRequiredError('Invalid identifier or password')
    }
    if (account.status === 'takendown' && !input.allowTakendown) {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    const tokens = await openSession(db, config, grant)
    return {
      body: { ...tokens, ...sessionView(account, { showEmail: grant.appPassword === null }) },
    }
  },
})

async function checkCredentials(
  db: Db,
  account: { did: string; passwordHash: string },
  password: string,
): Promise<SessionGrant | null> {
  if (isAppPasswordFormat(password)) {
    for (const row of await listAppPasswords(db, account.did)) {
      if (verifyAppPassword(password, row.passwordHash)) {
        return { did: account.did, appPassword: { name: row.name, privileged: row.privileged } }
      }
    }
  }
  if (await verifyPassword(password, account.passwordHash)) {
    return { did: account.did, appPassword: null }
  }
  return null
}
