import { listAppPasswords as listAppPasswordRows } from '../../../../db/sessions.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { passwordSessionOnly } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

/**
 * The account's app passwords (names and dates, never the secrets). Any session may list
 * them, an app-password session included, as on the reference PDS.
 */
export const listAppPasswords = defineMethod('com.atproto.server.listAppPasswords', {
  auth: accessStandard,
  permission: passwordSessionOnly,
  rateLimits: noRateLimits,
  async handler({ auth, db }) {
    const rows = await listAppPasswordRows(db, auth.did)
    rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name))
    const passwords = rows.map(({ name, createdAt, privileged }) => ({
      name,
      createdAt,
      privileged,
    }))
    return { body: { passwords } }
  },
})
