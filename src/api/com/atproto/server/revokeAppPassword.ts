import {
  getAppPassword,
  revokeAppPassword as revokeAppPasswordRows,
} from '../../../../db/sessions.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * Revokes an app password: its refresh tokens are deleted with it, and its access tokens stop
 * working at once (the access verifier looks the app password up on every request). Any
 * session may revoke, an app-password session included, as on the reference PDS.
 */
export const revokeAppPassword = defineMethod('com.atproto.server.revokeAppPassword', {
  auth: accessStandard,
  permission: passwordSessionOnly,
  rateLimits: noRateLimits,
  async handler({ input, auth, db }) {
    const name = input.name.trim()
    if (!(await getAppPassword(db, auth.did, name))) {
      throw new InvalidRequestError(`No app password named "${name}"`)
    }
    await revokeAppPasswordRows(db, auth.did, name)
    return undefined
  },
})
