import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { importRepo as importCar } from '../../../../writes/import-repo.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { accountPermission } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Replaces the caller's repo with the one in the CAR (account migration: the repo exported
 * from the old PDS), streamed to the account object in batches and checked whole before
 * anything changes; the new head is a fresh commit signed by the account's key here. Only
 * for a deactivated account (createAccount with an existing DID makes one). The body may be
 * as large as `PDS_MAX_IMPORT_BYTES` (413 past it, also when Content-Length says so first).
 */
export const importRepo = defineMethod('com.atproto.repo.importRepo', {
  auth: accessFull,
  permission: [accountPermission('repo', 'manage')],
  rateLimits: [{ limit: LIMITS.importRepoPerDid, key: 'account' }],
  async handler({ input, auth, env, config, db }) {
    const account = await requireCallerAccount(db, auth.did)
    if (account.status !== 'deactivated') {
      throw new InvalidRequestError(
        'A repo can only be imported into a deactivated account (such as one created for ' +
          `migration); this account is ${account.status}`,
      )
    }
    await importCar(env, config, {
      did: auth.did,
      body: input.body,
      contentLength: input.contentLength,
      contentType: input.encoding,
    })
    return undefined
  },
})
