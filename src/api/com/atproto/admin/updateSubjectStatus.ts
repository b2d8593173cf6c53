import {
  recordKeyOf,
  setBlobTakedown,
  setRecordTakedown,
  updateAccountModeration,
} from '../../../../accounts/moderation.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.updateSubjectStatus'

/**
 * Takes an account, a record or a blob down (or back), and deactivates or activates an
 * account; effects in src/accounts/moderation.ts. Answers with the subject and takedown sent.
 */
export const updateSubjectStatus = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ input, env }) {
    const { subject, takedown, deactivated } = input
    switch (subject.$type) {
      case 'com.atproto.admin.defs#repoRef':
        await updateAccountModeration(env, String(subject.did), { takedown, deactivated })
        break
      case 'com.atproto.repo.strongRef':
      case 'com.atproto.repo.strongRef#main':
        if (deactivated) throw new InvalidRequestError('deactivated applies to accounts only')
        if (takedown)
          await setRecordTakedown(env, await recordKeyOf(env, String(subject.uri)), takedown)
        break
      case 'com.atproto.admin.defs#repoBlobRef':
        if (deactivated) throw new InvalidRequestError('deactivated applies to accounts only')
        if (takedown) await setBlobTakedown(env, String(subject.did), String(subject.cid), takedown)
        break
      default:
        throw new InvalidRequestError('Invalid subject')
    }
    return { body: { subject, ...(takedown ? { takedown } : {}) } }
  },
})
