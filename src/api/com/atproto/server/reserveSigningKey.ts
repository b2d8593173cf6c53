import { reserveSigningKey as reserveKey } from '../../../../accounts/reserved-keys.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'

/**
 * Reserves a repo signing key for an account about to be created here (public, as the
 * reference PDS): with `did`, the key createAccount will use when that DID moves here, the
 * same on every call; without, a fresh key kept under its own did:key.
 */
export const reserveSigningKey = defineMethod('com.atproto.server.reserveSigningKey', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [{ limit: LIMITS.reserveSigningKeyPerIp, key: 'ip' }],
  async handler({ input, config, db }) {
    const signingKey = await reserveKey(db, config, input?.did ?? null)
    return { body: { signingKey } }
  },
})
