import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { parsePlcFields, signPlcUpdate } from '../../../../accounts/plc-identity.ts'
import { useAccountToken } from '../../../../accounts/tokens.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessFull } from '../../../auth-verifiers.ts'

/**
 * Our rotation key signs an update of the account's DID: its current state with the given
 * fields replaced. It may move the DID to another host; that is what the token from
 * requestPlcOperationSignature (used up here) guards. The operation is returned, not submitted.
 */
export const signPlcOperation = defineMethod('com.atproto.identity.signPlcOperation', {
  auth: accessFull,
  permission: [identityPermission('*')],
  rateLimits: [{ limit: LIMITS.signPlcOperationPerDid, key: 'account' }],
  async handler({ input, auth, config, db }) {
    const account = await requireCallerAccount(db, auth.did)
    if (!input.token) {
      throw new InvalidRequestError(
        'A token from requestPlcOperationSignature is required to sign a PLC operation',
      )
    }
    // Malformed fields are refused before the token is used up.
    const changes = parsePlcFields(input)
    await useAccountToken(db, account.did, 'plc_operation', input.token)
    const operation = await signPlcUpdate(config, account.did, changes)
    return { body: { operation } }
  },
})
