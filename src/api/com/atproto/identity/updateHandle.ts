import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { checkHandleForAccount } from '../../../../accounts/handles.ts'
import { accountStub, unwrapAccount } from '../../../../bindings.ts'
import { updateAccountHandle } from '../../../../db/accounts.ts'
import { isUniqueConstraintError } from '../../../../db/index.ts'
import {
  cidForPlcOperation,
  createUpdateOperation,
  PlcError,
  signPlcOperation,
} from '../../../../identity/index.ts'
import { identityServices, plcRotationKey } from '../../../../identity/services.ts'
import { UPDATE_HANDLE_LIMITS } from '../../../../rate-limit.ts'
import { InvalidRequestError, UpstreamFailureError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Changes the account's handle: our D1 row, the DID document's `alsoKnownAs` (a signed PLC
 * update for did:plc accounts), and an `#identity` event.
 */
export const updateHandle = defineMethod('com.atproto.identity.updateHandle', {
  auth: accessStandard,
  permission: [identityPermission('handle')],
  rateLimits: UPDATE_HANDLE_LIMITS,
  async handler({ input, auth, env, config, db }) {
    await requireCallerAccount(db, auth.did)
    const handle = await checkHandleForAccount(db, config, input.handle, auth.did)

    if (auth.did.startsWith('did:plc:')) {
      const { plc } = identityServices(config)
      try {
        const last = await plc.getLastOperation(auth.did)
        const rotationKey = await plcRotationKey(config)
        const op = await signPlcOperation(
          createUpdateOperation(last, await cidForPlcOperation(last), { handle }),
          rotationKey,
        )
        await plc.submitOperation(auth.did, op)
      } catch (err) {
        if (err instanceof PlcError) {
          throw new UpstreamFailureError(`The PLC directory refused the update: ${err.message}`)
        }
        throw err
      }
      identityServices(config).didResolver.clearCache(auth.did)
    }
    try {
      await updateAccountHandle(db, auth.did, handle)
    } catch (err) {
      if (isUniqueConstraintError(err)) {
        throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
      }
      throw err
    }
    await unwrapAccount(accountStub(env, auth.did).emitIdentity({ handle }))
    return undefined
  },
})
