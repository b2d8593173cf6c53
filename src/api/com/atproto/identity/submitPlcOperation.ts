import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { submitPlcOperationForAccount } from '../../../../accounts/plc-identity.ts'
import { accountStub, unwrapAccount } from '../../../../bindings.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Submits a signed PLC operation that makes this PDS the account's host (our endpoint, its
 * signing key here, its handle, our rotation key), once it is checked to follow the DID's
 * current operation and to be signed by one of its rotation keys; then `#identity`. A bad
 * operation is refused (400) and nothing is submitted.
 */
export const submitPlcOperation = defineMethod('com.atproto.identity.submitPlcOperation', {
  auth: accessFull,
  permission: [identityPermission('*')],
  rateLimits: [{ limit: LIMITS.submitPlcOperationPerDid, key: 'account' }],
  async handler({ input, auth, env, config, db }) {
    const account = await requireCallerAccount(db, auth.did)
    await submitPlcOperationForAccount(config, account, input.operation)
    await unwrapAccount(accountStub(env, account.did).emitIdentity({}))
    return undefined
  },
})
