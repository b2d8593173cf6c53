import { deleteAccountEverywhere } from '../../../../accounts/delete-account.ts'
import { checkAccountToken } from '../../../../accounts/tokens.ts'
import { verifyPassword } from '../../../../auth/index.ts'
import { getAccountByDid } from '../../../../db/accounts.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { AuthRequiredError, InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'

/** Longer than any password createAccount accepts; bounds the hashing work of a bad request. */
const MAX_PASSWORD_LENGTH = 256

/**
 * Deletes an account for good, given its password (not an app password) and the token from
 * requestAccountDelete. The account's Durable Object emits `#account` deleted and wipes the
 * repo; then the account's older events, the record index and the account's D1 rows go. Every step is idempotent, so a
 * failed deletion is finished by repeating the request (the token lives until the end).
 */
export const deleteAccount = defineMethod('com.atproto.server.deleteAccount', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [{ limit: LIMITS.deleteAccountPerDid, key: ({ input }) => input.did }],
  async handler({ input, env, db }) {
    const account = await getAccountByDid(db, input.did)
    if (!account) throw new InvalidRequestError('Account not found')
    if (input.password.length > MAX_PASSWORD_LENGTH) {
      throw new InvalidRequestError('Invalid password length')
    }
    if (!(await verifyPassword(input.password, account.passwordHash))) {
      throw new AuthRequiredError('Invalid DID or password')
    }
    await checkAccountToken(db, account.did, 'delete_account', input.token)

    await deleteAccountEverywhere(env, account.did)
    return undefined
  },
})
