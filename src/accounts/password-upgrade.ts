/**
 * After a login with the account password: a stored hash made with other scrypt parameters
 * than the configured ones (an older default, say p=5) is replaced by a fresh hash of the same
 * password, so every account converges on them and its logins cost what they should.
 */
import { hashPassword, needsRehash, type ScryptParams } from '../auth/password.ts'
import { replacePasswordHash } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'

export async function upgradePasswordHash(
  db: Db,
  account: { did: string; passwordHash: string },
  password: string,
  params: Readonly<ScryptParams>,
): Promise<void> {
  if (!needsRehash(account.passwordHash, params)) return
  const hash = await hashPassword(password, params)
  await replacePasswordHash(db, account.did, account.passwordHash, hash)
}
