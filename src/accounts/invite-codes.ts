/** Making invite codes (createInviteCode, createInviteCodes). */

import { generateInviteCode } from '../auth/index.ts'
import type { Config } from '../config.ts'
import { type Db, isUniqueConstraintError } from '../db/index.ts'
import { insertInviteCodes } from '../db/invites.ts'
import { RequestRefusedError } from '../errors.ts'

/** An invite-code request out of bounds. */
export class InviteCodeError extends RequestRefusedError {
  override name = 'InviteCodeError'
}

/** Codes not made for a particular account belong to `admin`, as on the reference PDS. */
export const ADMIN_INVITE_OWNER = 'admin'
/** Bounds of one admin request, so that a typo cannot insert a million rows. */
export const MAX_INVITE_CODES_PER_REQUEST = 1000
export const MAX_INVITE_USES = 100_000

export interface AccountCodes {
  account: string
  codes: string[]
}

/** Checks the counts, generates `codeCount` codes per account and stores them in one batch. */
export async function createInviteCodesFor(
  db: Db,
  config: Config,
  opts: { accounts: string[]; codeCount: number; useCount: number },
): Promise<AccountCodes[]> {
  const { accounts, codeCount, useCount } = opts
  if (accounts.length === 0) throw new InviteCodeError('forAccounts must not be empty')
  if (!Number.isSafeInteger(codeCount) || codeCount < 1) {
    throw new InviteCodeError('codeCount must be at least 1')
  }
  if (!Number.isSafeInteger(useCount) || useCount < 1 || useCount > MAX_INVITE_USES) {
    throw new InviteCodeError(`useCount must be between 1 and ${MAX_INVITE_USES}`)
  }
  const unique = [...new Set(accounts)]
  if (codeCount * unique.length > MAX_INVITE_CODES_PER_REQUEST) {
    throw new InviteCodeError(
      `At most ${MAX_INVITE_CODES_PER_REQUEST} codes per request (codeCount × accounts)`,
    )
  }
  const createdAt = new Date().toISOString()
  const result = unique.map((account) => ({
    account,
    codes: Array.from({ length: codeCount }, () => generateInviteCode(config.hostname)),
  }))
  const rows = result.flatMap(({ account, codes }) =>
    codes.map((code) => ({
      code,
      availableUses: useCount,
      disabled: false,
      forAccount: account,
      createdBy: ADMIN_INVITE_OWNER,
      createdAt,
    })),
  )
  try {
    await insertInviteCodes(db, rows)
  } catch (err) {
    // 50 random bits per code: a collision is next to impossible, and a retry clears it.
    if (isUniqueConstraintError(err)) {
      throw new InviteCodeError('Generated a code that already exists; please retry')
    }
    throw err
  }
  return result
}
