import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/** This PDS has no sign-up queue: every account is activated when it is created. */
export const checkSignupQueue = defineMethod('com.atproto.temp.checkSignupQueue', {
  auth: accessStandard,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler() {
    return { body: { activated: true } }
  },
})
