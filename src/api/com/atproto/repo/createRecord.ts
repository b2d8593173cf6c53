import { resolveRepoForWrite } from '../../../../accounts/repo-target.ts'
import type { XrpcMethodTypes } from '../../../../lexicon/generated/method-types.ts'
import { repoWriteLimits, WRITE_POINTS } from '../../../../rate-limit.ts'
import { writeOneRecord } from '../../../../writes/prepare.ts'
import { RECORD_WRITE_JSON_BODY_BYTES } from '../../../../xrpc/body.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { repoPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

type Output = XrpcMethodTypes['com.atproto.repo.createRecord']['output']

/** One new record in one commit; a TID record key unless the caller names one. */
export const createRecord = defineMethod('com.atproto.repo.createRecord', {
  auth: accessStandard,
  permission: ({ input }) => [repoPermission(input.collection, 'create')],
  rateLimits: repoWriteLimits(WRITE_POINTS.create),
  maxJsonBodyBytes: RECORD_WRITE_JSON_BODY_BYTES,
  async handler({ input, auth, env, db, accountObjectLimits }) {
    const did = await resolveRepoForWrite(db, auth.did, input.repo)
    const { body, headers } = await writeOneRecord(
      env,
      did,
      { action: 'create', collection: input.collection, rkey: input.rkey, record: input.record },
      { validate: input.validate, swapCommit: input.swapCommit, limits: accountObjectLimits },
    )
    // @TODO writeOneRecord (src/services, being restructured) builds this Lexicon output but
    // types it as a plain record: give it this return type there and drop the cast.
    return { body: body as unknown as Output, headers }
  },
})
