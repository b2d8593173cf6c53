/**
 * One-off tokens the user types back (account deletion, PLC operation signing; email
 * confirmation later): issued into `account_token`, checked in constant time, valid 15 minutes.
 */
import { generateEmailToken, normalizeEmailToken, timingSafeEqualString } from '../auth/index.ts'
import {
  type AccountTokenPurpose,
  deleteAccountTokensRequestedBefore,
  getAccountToken,
  putAccountToken,
  takeAccountToken,
} from '../db/account-tokens.ts'
import type { Db } from '../db/index.ts'
import { RequestRefusedError } from '../errors.ts'

/** A token that does not work: InvalidToken or ExpiredToken. */
export class AccountTokenError extends RequestRefusedError {
  override name = 'AccountTokenError'
}

export const ACCOUNT_TOKEN_TTL_MS = 15 * 60 * 1000

export interface IssuedAccountToken {
  token: string
  requestedAt: string
  expiresAt: string
}

/** A fresh token for `purpose`; any earlier one of the same purpose stops working. */
export async function issueAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  nowMs = Date.now(),
): Promise<IssuedAccountToken> {
  const token = generateEmailToken()
  const requestedAt = new Date(nowMs).toISOString()
  await putAccountToken(db, { did, purpose, token, requestedAt })
  return { token, requestedAt, expiresAt: accountTokenExpiry(requestedAt) }
}

export function accountTokenExpiry(requestedAt: string): string {
  return new Date(Date.parse(requestedAt) + ACCOUNT_TOKEN_TTL_MS).toISOString()
}

/**
 * Throws InvalidToken when `input` is not the account's token for `purpose` and ExpiredToken
 * when it is but is older than 15 minutes (both 400, as the reference answers).
 */
export async function checkAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  input: string,
  nowMs = Date.now(),
): Promise<void> {
  const row = await getAccountToken(db, did, purpose)
  // Compared even without a row, so the timing does not tell whether a token was requested.
  const matches = timingSafeEqualString(normalizeEmailToken(input), row?.token ?? '')
  if (!row || !matches) throw new AccountTokenError('Token is invalid', 'InvalidToken')
  if (nowMs > Date.parse(row.requestedAt) + ACCOUNT_TOKEN_TTL_MS) {
    throw new AccountTokenError('Token is expired', 'ExpiredToken')
  }
}

/**
 * checkAccountToken, then uses the token up: of two requests presenting it at once, only one
 * gets through (InvalidToken for the other), and it never works again.
 */
export async function useAccountToken(
  db: Db,
  did: string,
  purpose: AccountTokenPurpose,
  input: string,
  nowMs = Date.now(),
): Promise<void> {
  await checkAccountToken(db, did, purpose, input, nowMs)
  if (!(await takeAccountToken(db, did, purpose, normalizeEmailToken(input)))) {
    throw new AccountTokenError('Token is invalid', 'InvalidToken')
  }
}

/** The cleanup job's part: tokens past their 15 minutes. */
export async function deleteExpiredAccountTokens(db: Db, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - ACCOUNT_TOKEN_TTL_MS).toISOString()
  await deleteAccountTokensRequestedBefore(db, cutoff)
}
