import { getDb } from '../../../../db/index.ts'
import { listIndexedRecords } from '../../../../db/record-reads.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

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
    // One row more than asked tells whether another page exists.
    const rows = await listIndexedRecords(db, {
      did: account.did,
      collection: params.collection,
      limit: params.limit + 1,
      cursor: params.cursor,
      reverse: params.reverse ?? false,
    })
    const page = rows.slice(0, params.limit)
    const records = page.map((row) => ({
      uri: AtUri.make(account.did, params.collection, row.rkey).toString(),
      cid: row.cid,
      value: JSON.parse(row.value),
    }))
    const last = page[page.length - 1]
    return {
      body: rows.length > params.limit && last ? { records, cursor: last.rkey } : { records },
    }
  },
})
