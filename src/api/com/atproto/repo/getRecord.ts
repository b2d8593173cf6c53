import { ensureReadable } from '../../../../accounts/repo-target.ts'
import { withRepoValues } from '../../../../accounts/unindexed-values.ts'
import { d1Of } from '../../../../db/index.ts'
import { lookupRecord } from '../../../../db/record-reads.ts'
import { readOrAskPrimary } from '../../../../db/session.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { jsonTextResponse } from '../../../../xrpc/raw-json.ts'

/** One record from the D1 index, in one query (the account's Durable Object is not woken). */
export const getRecord = defineMethod('com.atproto.repo.getRecord', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, config, db }) {
    const found = ensureReadable(
      await readOrAskPrimary(
        db,
        (db) => lookupRecord(d1Of(db), params.repo, params.collection, params.rkey),
        (found) => found?.record != null,
      ),
      params.repo,
    )
    // The collection and record key were validated with the params and the DID comes from our
    // index: the profile showed AtUri's re-validation of the DID as 8% of the Worker's CPU here.
    const uri = `at://${found.did}/${params.collection}/${params.rkey}`
    const [row] = found.record ? await withRepoValues(env, found.did, [found.record]) : []
    if (!row || (params.cid !== undefined && row.cid !== params.cid)) {
      throw new InvalidRequestError(`Could not locate record: ${uri}`, 'RecordNotFound')
    }
    if (config.validateResponses) {
      return { body: { uri, cid: row.cid, value: JSON.parse(row.value) } }
    }
    // The index holds the record as atproto JSON already: splice it in rather than parsing
    // and re-serializing it on every read.
    return jsonTextResponse(
      `{"uri":${JSON.stringify(uri)},"cid":${JSON.stringify(row.cid)},"value":${row.value}}`,
    )
  },
})
