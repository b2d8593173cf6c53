import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { changeHandle } from '../../../../accounts/change-handle.ts'
import { checkHandleForAccount } from '../../../../accounts/handles.ts'
import { UPDATE_HANDLE_LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { identityPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Changes the account's handle: our D1 row, the DID document's `alsoKnownAs` (a signed PLC
 * update for did:plc accounts), and an `#identity` event (src/accounts/change-handle.ts).
 */
export const updateHandle = defineMethod('com.atproto.identity.updateHandle', {
  auth: accessStandard,
  permission: [identityPermission('handle')],
  rateLimits: UPDATE_HANDLE_LIMITS,
  async handler({ input, auth, env, config, db }) {
    await requireCallerAccount(db, auth.did)
    const handle = await checkHandleForAccount(db, config, input.handle, auth.did)
    await changeHandle(env, db, config, auth.did, handle)
    return undefined
  },
})
