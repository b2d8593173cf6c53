import { ensureReadable } from '../../../../accounts/repo-target.ts'
import { withRepoValues } from '../../../../accounts/unindexed-values.ts'
import { d1Of } from '../../../../db/index.ts'
import { lookupRecordPage } from '../../../../db/record-reads.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { jsonTextResponse } from '../../../../xrpc/raw-json.ts'

/**
 * A page of one collection in record-key order, in one D1 query with the account; no `cursor`
 * in the answer means the end.
 */
export const listRecords = defineMethod('com.atproto.repo.listRecords', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, env, config, db }) {
    const { limit, collection, cursor: after } = params
    let did = ''
    const { rows, cursor } = await fetchPage(
      limit,
      async (limitPlusOne) => {
        const found = await lookupRecordPage(d1Of(db), {
          repo: params.repo,
          collection,
          limit: limitPlusOne,
          cursor: after,
          reverse: params.reverse ?? false,
        })
        did = ensureReadable(found, params.repo).did
        return withRepoValues(env, did, found?.records ?? [])
      },
      (row) => row.rkey,
    )
    // The DID, collection and record keys are already validated: no AtUri parse per record.
    const prefix = AtUri.make(did, collection).toString()
    if (config.validateResponses) {
      const records = rows.map((row) => ({
        uri: `${prefix}/${row.rkey}`,
        cid: row.cid,
        value: JSON.parse(row.value),
      }))
      return { body: pageBody('records', records, cursor) }
    }
    // The index holds each record as atproto JSON already: splice, don't parse and re-encode.
    const records = rows.map(
      (row) =>
        `{"uri":${JSON.stringify(`${prefix}/${row.rkey}`)},"cid":${JSON.stringify(row.cid)},"value":${row.value}}`,
    )
    const tail = cursor === undefined ? '' : `,"cursor":${JSON.stringify(cursor)}`
    return jsonTextResponse(`{"records":[${records.join(',')}]${tail}}`)
  },
})
