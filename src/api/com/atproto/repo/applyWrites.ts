import type { WriteOutcome } from '../../../../account/types.ts'
import { resolveRepoForWrite } from '../../../../accounts/repo-target.ts'
import type { XrpcMethodTypes } from '../../../../lexicon/generated/method-types.ts'
import { repoWriteLimits, WRITE_POINTS } from '../../../../rate-limit.ts'
import {
  commitWrites,
  prepareWrites,
  type ValidationStatus,
  type WriteRequest,
  writeHeaders,
} from '../../../../writes/prepare.ts'
import { RECORD_WRITE_JSON_BODY_BYTES } from '../../../../xrpc/body.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, type MethodCall } from '../../../../xrpc/method.ts'
import { type RepoAction, repoPermission } from '../../../../xrpc/permission.ts'
import { accessStandard } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.repo.applyWrites'
/** The most operations one commit may carry (the firehose's `ops` limit). */
export const MAX_WRITES = 200

type Types = XrpcMethodTypes[typeof NSID]
type Write = Types['input']['writes'][number]
type Result = NonNullable<Types['output']['results']>[number]

/** Up to 200 creates, updates and deletes in one signed commit: all of them or none. */
export const applyWrites = defineMethod(NSID, {
  auth: accessStandard,
  permission: ({ input }) =>
    input.writes.map((write) => repoPermission(write.collection, actionOf(write))),
  rateLimits: repoWriteLimits<MethodCall<Types['params'], Types['input'], unknown>>(({ input }) =>
    input.writes.reduce((points, write) => points + WRITE_POINTS[actionOf(write)], 0),
  ),
  maxJsonBodyBytes: RECORD_WRITE_JSON_BODY_BYTES,
  async handler({ input, auth, env, db, accountObjectLimits }) {
    if (input.writes.length > MAX_WRITES) {
      throw new InvalidRequestError(`Too many writes: at most ${MAX_WRITES} in one commit`)
    }
    const did = await resolveRepoForWrite(db, auth.did, input.repo)
    const { writes, validation } = await prepareWrites(input.writes.map(toRequest), input.validate)
    const result = await commitWrites(env, did, writes, input.swapCommit, accountObjectLimits)
    const results = result.results.map((outcome, i) => toResult(outcome, validation[i]))
    return {
      body: { commit: result.commit, results },
      headers: writeHeaders(result),
    }
  },
})

function toResult(outcome: WriteOutcome, validation: ValidationStatus | null | undefined): Result {
  if (outcome.action === 'delete') return { $type: `${NSID}#deleteResult` }
  // @NOTE Creates and updates always report the new record's CID.
  const written = { uri: outcome.uri, cid: outcome.cid!, validationStatus: validation ?? undefined }
  return outcome.action === 'create'
    ? { $type: `${NSID}#createResult`, ...written }
    : { $type: `${NSID}#updateResult`, ...written }
}

function actionOf(write: Write): RepoAction {
  if (write.$type === `${NSID}#create`) return 'create'
  return write.$type === `${NSID}#update` ? 'update' : 'delete'
}

function toRequest(write: Write): WriteRequest {
  switch (write.$type) {
    case `${NSID}#create`:
      return {
        action: 'create',
        collection: write.collection,
        rkey: write.rkey,
        record: write.value,
      }
    case `${NSID}#update`:
      return {
        action: 'update',
        collection: write.collection,
        rkey: write.rkey,
        record: write.value,
      }
    case `${NSID}#delete`:
      return { action: 'delete', collection: write.collection, rkey: write.rkey }
    default:
      throw new InvalidRequestError(`Unknown write type: ${(write as { $type: string }).$type}`)
  }
}
