import { recordKeyOf, requireAccount } from '../../../../accounts/moderation.ts'
import { getBlobTakedownRef, getRecordModeration } from '../../../../db/moderation.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { adminRateLimits, moderatorAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.admin.getSubjectStatus'

/**
 * The moderation state of an account (`did`), a record (`uri`) or a blob (`did` and `blob`):
 * whether it is taken down (and the reference), and for an account whether it is deactivated.
 */
export const getSubjectStatus = defineMethod(NSID, {
  auth: moderatorAuth(NSID),
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ params, env, db }) {
    const { did, uri, blob } = params
    if (blob !== undefined) {
      if (did === undefined) {
        throw new InvalidRequestError('Must provide a did to request blob state')
      }
      const row = await getBlobTakedownRef(db, did, blob)
      if (!row) throw new InvalidRequestError('Subject not found', 'NotFound')
      return {
        body: {
          subject: { $type: 'com.atproto.admin.defs#repoBlobRef', did, cid: blob },
          takedown: statusAttr(row.takedownRef),
        },
      }
    }
    if (uri !== undefined) {
      const key = await recordKeyOf(env, uri)
      const row = await getRecordModeration(db, key)
      if (!row) throw new InvalidRequestError('Subject not found', 'NotFound')
      return {
        body: {
          subject: {
            $type: 'com.atproto.repo.strongRef',
            uri: AtUri.make(key.did, key.collection, key.rkey).toString(),
            cid: row.cid,
          },
          takedown: statusAttr(row.takedownRef),
        },
      }
    }
    if (did !== undefined) {
      const account = await requireAccount(env, did).catch(() => {
        throw new InvalidRequestError('Subject not found', 'NotFound')
      })
      return {
        body: {
          subject: { $type: 'com.atproto.admin.defs#repoRef', did: account.did },
          takedown: statusAttr(account.status === 'takendown' ? account.takedownRef : null),
          deactivated: { applied: account.status === 'deactivated' },
        },
      }
    }
    throw new InvalidRequestError('No provided subject')
  },
})

function statusAttr(ref: string | null): { applied: boolean; ref?: string } {
  return ref ? { applied: true, ref } : { applied: false }
}
