import { getDb } from '../../../../db/index.ts'
import { listIndexedRecords } from '../../../../db/record-reads.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'

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
  async handler({ params, env }) {
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
    const records = rows.map((row) => ({
      uri: AtUri.make(account.did, params.collection, row.rkey).toString(),
      cid: row.cid,
      value: JSON.parse(row.value),
    }))
    return { body: pageBody('records', records, cursor) }
  },
})
