import { getBlobCounts } from '../../../../db/blobs.ts'
import { countIndexedRecords } from '../../../../db/records.ts'
import { accountStub } from '../../../../services/account-do.ts'
import { requireCallerAccount } from '../../../../services/caller-account.ts'
import { checkDidForThisPds } from '../../../../services/did-check.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Where the account stands, mostly for a migration in progress: activation, whether the DID
 * document points here, the repo head and what the record index holds.
 * `repoBlocks` counts the blocks the account's object holds, less those awaiting collection.
 */
export const checkAccountStatus = defineMethod('com.atproto.server.checkAccountStatus', {
  auth: accessStandard,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ auth, env, config, db }) {
    const account = await requireCallerAccount(db, auth.did)
    const stub = accountStub(env, auth.did)
    const [head, repoBlocks, indexedRecords, blobs, validDid] = await Promise.all([
      stub.getHead(),
      stub.getBlockCount(),
      countIndexedRecords(db, auth.did),
      getBlobCounts(db, auth.did),
      // Unreachable directory or not: the document cannot be confirmed, so it is not valid.
      checkDidForThisPds(config, account.did, account.signingKeyDid).then(
        (check) => check.valid,
        () => false,
      ),
    ])
    if (!head) throw new InvalidRequestError('Repo not found', 'RepoNotFound')
    return {
      body: {
        activated: account.status === 'active',
        validDid,
        repoCommit: head.cid,
        repoRev: head.rev,
        repoBlocks: repoBlocks ?? 0,
        indexedRecords,
        privateStateValues: 0,
        ...blobs,
      },
    }
  },
})
