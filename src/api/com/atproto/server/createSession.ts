import { upgradePasswordHash } from '../../../../accounts/password-upgrade.ts'
import { issueAccountToken, useAccountToken } from '../../../../accounts/tokens.ts'
import {
  dummyPasswordHash,
  isAppPasswordFormat,
  verifyAppPassword,
  verifyPassword,
} from '../../../../auth/index.ts'
import { type AccountRow, getAccountByIdentifier } from '../../../../db/accounts.ts'
import type { Db } from '../../../../db/index.ts'
import { listAppPasswords } from '../../../../db/sessions.ts'
import type { XrpcMethodTypes } from '../../../../lexicon/generated/method-types.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { openSession, type SessionGrant } from '../../../../sessions/open.ts'
import { sessionView } from '../../../../sessions/view.ts'
import { AuthRequiredError } from '../../../../xrpc/errors.ts'
import { defineMethod, type MethodCall, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { addressPrefix, clientIp } from '../../../../xrpc/rate-limits.ts'

/**
 * Log in with a handle, email or DID and the account password or an app password. With sign-in
 * codes on (`emailAuthFactor`), the account password alone gets 401 `AuthFactorTokenRequired`
 * and a code by mail; the same call with `authFactorToken` signs in.
 */
export const createSession = defineMethod('com.atproto.server.createSession', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [
    { limit: LIMITS.createSessionPerIp, key: 'ip' },
    // Keyed on the account the identifier names, so its handle, email and DID, however
    // spelled, share one budget; only failed attempts count.
    {
      limit: LIMITS.createSessionFailuresPerAccountAddress,
      key: async (call) => `${await loginSubject(call)} ${addressPrefix(clientIp(call.request))}`,
      counts: 'failures',
    },
    { limit: LIMITS.createSessionFailuresPerAccount, key: loginSubject, counts: 'failures' },
  ],
  async handler(call) {
    const { input, config, db } = call
    const account = await accountOf(call)
    const grant = account ? await checkCredentials(db, account, input.password) : null
    if (!account) await verifyPassword(input.password, await dummyPasswordHash(config.passwordHash))
    if (!account || !grant) {
      throw new AuthRequiredError('Invalid identifier or password')
    }
    // The narrow session a taken-down account may open (to migrate away) needs its password.
    if (account.status === 'takendown' && (!input.allowTakendown || grant.appPassword)) {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    // Sign-in codes guard the account password; app passwords are for apps and skip them.
    if (account.emailAuthFactor && grant.appPassword === null) {
      if (!input.authFactorToken) {
        await issueAccountToken(call, account, 'sign_in')
        throw new AuthRequiredError(
          'A sign-in code has been sent to your email address',
          'AuthFactorTokenRequired',
        )
      }
      await useAccountToken(db, account.did, 'sign_in', input.authFactorToken)
    }
    if (grant.appPassword === null) {
      await upgradePasswordHash(db, account, input.password, config.passwordHash)
    }
    const tokens = await openSession(db, config, {
      ...grant,
      takendown: account.status === 'takendown',
    })
    return {
      body: { ...tokens, ...sessionView(account, { showEmail: grant.appPassword === null }) },
    }
  },
})

type Types = XrpcMethodTypes['com.atproto.server.createSession']
type LoginCall = MethodCall<Types['params'], Types['input'], unknown>

/** The account a login names, looked up once per request (its limits and the handler). */
const accounts = new WeakMap<Request, Promise<AccountRow | null>>()
function accountOf({ request, input, db }: LoginCall): Promise<AccountRow | null> {
  let account = accounts.get(request)
  if (!account) {
    account = getAccountByIdentifier(db, input.identifier)
    accounts.set(request, account)
  }
  return account
}

/** The account's DID, or the identifier as looked up when it names no account. */
async function loginSubject(call: LoginCall): Promise<string> {
  return (await accountOf(call))?.did ?? call.input.identifier.trim()
}

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
