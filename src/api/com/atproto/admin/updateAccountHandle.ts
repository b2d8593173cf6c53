import { changeHandle } from '../../../../accounts/change-handle.ts'
import { checkHandleForAccount } from '../../../../accounts/handles.ts'
import { requireAccount } from '../../../../accounts/moderation.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/** Changes an account's handle as its owner would (PLC, D1, `#identity`). Admin password only. */
export const updateAccountHandle = defineMethod('com.atproto.admin.updateAccountHandle', {
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env, config, db }) {
    const account = await requireAccount(env, input.did)
    const handle = await checkHandleForAccount(db, config, input.handle, account.did)
    await changeHandle(env, db, config, account.did, handle)
    return undefined
  },
})
