/**
 * Signing in on the pages: a handle or email and the account password (app passwords are
 * for legacy clients, not here), limited like createSession (the same counters), and then,
 * for an account that has them on (`emailAuthFactor`), a code sent by email.
 */

import { upgradePasswordHash } from '../accounts/password-upgrade.ts'
import { AccountTokenError, issueAccountToken, useAccountToken } from '../accounts/tokens.ts'
import { dummyPasswordHash, verifyPassword } from '../auth/password.ts'
import { type AccountRow, getAccountByIdentifier } from '../db/accounts.ts'
import { d1RateLimitStore, LIMITS } from '../rate-limit.ts'
import { RateLimitExceededError } from '../xrpc/errors.ts'
import { addressPrefix, clientIp, enforceRateLimits } from '../xrpc/rate-limits.ts'
import type { OAuthDeps } from './endpoint.ts'

export type SignInResult =
  | { ok: true; account: AccountRow }
  | { ok: false; message: string; status: number; codeRequired?: boolean }

export interface SignInInput {
  identifier: string
  password: string
  /** The email sign-in code, when the form asked for one. */
  code?: string
}

export async function signIn(
  request: Request,
  input: SignInInput,
  deps: OAuthDeps,
): Promise<SignInResult> {
  const { db, config } = deps
  const identifier = input.identifier.trim()
  if (!identifier || !input.password || identifier.length > 256 || input.password.length > 256) {
    return { ok: false, status: 400, message: 'Enter your handle or email and your password.' }
  }
  const account = await getAccountByIdentifier(db, identifier)
  const subject = account?.did ?? identifier
  let countFailure: () => Promise<void> = async () => {}
  if (config.rateLimitsEnabled) {
    try {
      countFailure = await enforceRateLimits(
        [
          { limit: LIMITS.createSessionPerIp, key: 'ip' },
          {
            limit: LIMITS.createSessionFailuresPerAccountAddress,
            key: () => `${subject} ${addressPrefix(clientIp(request))}`,
            counts: 'failures',
          },
          { limit: LIMITS.createSessionFailuresPerAccount, key: () => subject, counts: 'failures' },
        ],
        { nsid: 'com.atproto.server.createSession', auth: null, request, config },
        d1RateLimitStore(db),
      )
    } catch (err) {
      if (err instanceof RateLimitExceededError) {
        return {
          ok: false,
          status: 429,
          message: 'Too many attempts. Wait a few minutes and try again.',
        }
      }
      throw err
    }
  }
  const valid = account
    ? await verifyPassword(input.password, account.passwordHash)
    : await verifyPassword(input.password, await dummyPasswordHash(config.passwordHash)).then(
        () => false,
      )
  if (!account || !valid) {
    await countFailure()
    return { ok: false, status: 401, message: 'Wrong handle, email or password.' }
  }
  await upgradePasswordHash(db, account, input.password, config.passwordHash)
  if (account.status !== 'active') {
    return { ok: false, status: 403, message: 'This account is not active.' }
  }
  const factor = await checkSecondFactor(account, input.code, deps)
  if (factor !== 'ok') {
    return {
      ok: false,
      status: 401,
      codeRequired: true,
      message:
        factor === 'code-sent'
          ? 'We sent a sign-in code to your email. Enter it below.'
          : 'That code is wrong or has expired.',
    }
  }
  return { ok: true, account }
}

/**
 * Sign-in codes (`emailAuthFactor`, as createSession): the first try mails a code
 * ('code-sent'); the next must carry it ('ok' or 'code-invalid').
 */
async function checkSecondFactor(
  account: AccountRow,
  code: string | undefined,
  deps: OAuthDeps,
): Promise<'ok' | 'code-sent' | 'code-invalid'> {
  if (!account.emailAuthFactor) return 'ok'
  if (!code) {
    await issueAccountToken(deps, account, 'sign_in')
    return 'code-sent'
  }
  try {
    await useAccountToken(deps.db, account.did, 'sign_in', code)
    return 'ok'
  } catch (err) {
    if (err instanceof AccountTokenError) return 'code-invalid'
    throw err
  }
}
