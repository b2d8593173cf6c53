/**
 * One-off codes mailed to the user and typed back (email confirmation and change, password
 * reset, account deletion, PLC operations, sign-in): issuing one mails it, so every purpose
 * reaches the user the same way. One live code per account and purpose (a new one replaces the
 * old), valid 15 minutes, used once, compared in constant time, burnt after a few wrong tries.
 */
import { generateEmailToken, normalizeEmailToken, timingSafeEqualString } from '../auth/index.ts'
import type { Config } from '../config.ts'
import {
  type AccountTokenPurpose,
  addAccountTokenAttempt,
  deleteAccountToken,
  deleteAccountTokensRequestedBefore,
  getAccountToken,
  putAccountToken,
  takeAccountToken,
} from '../db/account-tokens.ts'
import type { AccountRow } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { RequestRefusedError } from '../errors.ts'
import { composeCodeMail } from '../mail/compose.ts'
import { mailerFor } from '../mail/index.ts'
import { MailerNotConfiguredError } from '../mail/mailer.ts'

/** A token that does not work: InvalidToken or ExpiredToken. */
export class AccountTokenError extends RequestRefusedError {
  override name = 'AccountTokenError'
}

export const ACCOUNT_TOKEN_TTL_MS = 15 * 60 * 1000
/** Wrong codes tried against one token before it stops working (a new one must be asked for). */
export const MAX_TOKEN_ATTEMPTS = 5

export interface IssuedAccountToken {
  requestedAt: string
  expiresAt: string
}

/** What issuing needs: D1, the config and the Worker's bindings (the mailer's). */
export interface TokenMailDeps {
  db: Db
  config: Config
  env: Env
}

/**
 * Issues a fresh code for `purpose` (any earlier one of the same purpose stops working) and
 * mails it to the account's address, or to `to`. With no mailer nothing is issued (501), so a
 * code never exists that only a log could carry.
 */
export async function issueAccountToken(
  { db, config, env }: TokenMailDeps,
  account: Pick<AccountRow, 'did' | 'handle' | 'email'>,
  purpose: AccountTokenPurpose,
  opts: { to?: string; nowMs?: number } = {},
): Promise<IssuedAccountToken> {
  const mailer = mailerFor(env, config, db)
  if (!mailer || !config.mail) throw new MailerNotConfiguredError()
  const to = opts.to ?? account.email
  if (!to) throw new RequestRefusedError('This account has no email address')
  const token = generateEmailToken()
  const nowMs = opts.nowMs ?? Date.now()
  const requestedAt = new Date(nowMs).toISOString()
  const expiresAt = accountTokenExpiry(requestedAt)
  await putAccountToken(db, { did: account.did, purpose, token, requestedAt, attempts: 0 })
  const mail = composeCodeMail(config, config.mail, {
    to,
    handle: account.handle,
    purpose,
    code: token,
    expiresAt: new Date(expiresAt),
  })
  try {
    await mailer.send(mail)
  } catch (err) {
    // A code nobody received is of no use; the next request issues another.
    await deleteAccountToken(db, account.did, purpose)
    throw err
  }
  return { requestedAt, expiresAt }
}

export function accountTokenExpiry(requestedAt: string): string {
  return new Date(Date.parse(requestedAt) + ACCOUNT_TOKEN_TTL_MS).toISOString()
}

/**
 * Throws InvalidToken when `input` is not the account's live token for `purpose` and
 * ExpiredToken when it is but is older than 15 minutes (both 400, as the reference answers).
 * A wrong code counts against the token; past MAX_TOKEN_ATTEMPTS it is burnt.
 */
export async function checkAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  input: string,
  nowMs = Date.now(),
): Promise<string> {
  const row = await getAccountToken(db, did, purpose)
  // Compared even without a row, so the timing does not tell whether a token was requested.
  const matches = timingSafeEqualString(normalizeEmailToken(input), row?.token ?? '')
  if (row && !matches) {
    const attempts = await addAccountTokenAttempt(db, did, purpose)
    if (attempts !== null && attempts >= MAX_TOKEN_ATTEMPTS) {
      await deleteAccountToken(db, did, purpose)
    }
  }
  if (!row || !matches || row.attempts >= MAX_TOKEN_ATTEMPTS) {
    throw new AccountTokenError('Token is invalid', 'InvalidToken')
  }
  if (nowMs > Date.parse(row.requestedAt) + ACCOUNT_TOKEN_TTL_MS) {
    throw new AccountTokenError('Token is expired', 'ExpiredToken')
  }
  return row.token
}

/** Checks the token and uses it up; of two calls racing with it, one wins. */
export async function useAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  input: string,
  nowMs = Date.now(),
): Promise<void> {
  const token = await checkAccountToken(db, did, purpose, input, nowMs)
  if (!(await takeAccountToken(db, did, purpose, token))) {
    throw new AccountTokenError('Token is invalid', 'InvalidToken')
  }
}

/** The cleanup job's part: tokens past their 15 minutes. */
export async function deleteExpiredAccountTokens(db: Db, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - ACCOUNT_TOKEN_TTL_MS).toISOString()
  await deleteAccountTokensRequestedBefore(db, cutoff)
}
