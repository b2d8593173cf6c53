import { generateAppPassword, hashAppPassword } from '../../../../auth/index.ts'
import { getAccountByDid } from '../../../../db/accounts.ts'
import { isUniqueConstraintError } from '../../../../db/index.ts'
import { insertAppPassword, listAppPasswords } from '../../../../db/sessions.ts'
import { AuthRequiredError, InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessFull } from '../../../auth-verifiers.ts'

export const MAX_APP_PASSWORD_NAME_LENGTH = 64
/** A login tries each of the account's app passwords, so their number stays small. */
export const MAX_APP_PASSWORDS = 50

/**
 * Creates an app password: the generated secret is returned this once and only its hash is
 * kept. Full-access sessions only, as on the reference PDS.
 */
export const createAppPassword = defineMethod('com.atproto.server.createAppPassword', {
  auth: accessFull,
  permission: passwordSessionOnly,
  rateLimits: noRateLimits,
  async handler({ input, auth, db }) {
    const name = checkName(input.name)
    const account = await getAccountByDid(db, auth.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    if (account.status === 'takendown') {
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    }
    const existing = await listAppPasswords(db, auth.did)
    if (existing.some((row) => row.name === name)) throw duplicateName(name)
    if (existing.length >= MAX_APP_PASSWORDS) {
      throw new InvalidRequestError(
        `An account may have at most ${MAX_APP_PASSWORDS} app passwords; revoke one first`,
      )
    }

    const password = generateAppPassword()
    const privileged = input.privileged ?? false
    const createdAt = new Date().toISOString()
    try {
      await insertAppPassword(db, {
        did: auth.did,
        name,
        passwordHash: hashAppPassword(password),
        privileged,
        createdAt,
      })
    } catch (err) {
      // Two requests racing for the same name: the primary key keeps one.
      if (isUniqueConstraintError(err)) throw duplicateName(name)
      throw err
    }
    return { body: { name, password, createdAt, privileged } }
  },
})

function checkName(raw: string): string {
  const name = raw.trim()
  if (!name) throw new InvalidRequestError('App password name must not be empty')
  if ([...name].length > MAX_APP_PASSWORD_NAME_LENGTH) {
    throw new InvalidRequestError(
      `App password name must be at most ${MAX_APP_PASSWORD_NAME_LENGTH} characters`,
    )
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidRequestError('App password name must not contain control characters')
  }
  return name
}

/** The Lexicon declares no name for this; InvalidRequest with a clear message is what clients read. */
function duplicateName(name: string): InvalidRequestError {
  return new InvalidRequestError(`An app password named "${name}" already exists`)
}
