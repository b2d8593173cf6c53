import { getDb } from '../../../../db/index.ts'
import { listIndexedRecords } from '../../../../db/record-reads.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'
import { jsonTextResponse } from '../../../../xrpc/raw-json.ts'

interface Params {
  repo: string
  collection: string
  limit: number
  cursor?: string
  reverse?: boolean
}

/** A page of one collection in record-key order; no `cursor` in the answer means the end. */
export const listRecords = defineMethod<Params>({
  nsid: 'com.atproto.repo.listRecords',
  async handler({ params, env, config }) {
    const db = getDb(env.DB)
    const account = await resolveRepoForRead(db, params.repo)
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) =>
        listIndexedRecords(db, {
          did: account.did,
          collection: params.collection,
          limit,
          cursor: params.cursor,
          reverse: params.reverse ?? false,
        }),
      (row) => row.rkey,
    )
    // The DID, collection and record keys are already validated: no AtUri parse per record.
    const prefix = AtUri.make(account.did, params.collection).toString()
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
