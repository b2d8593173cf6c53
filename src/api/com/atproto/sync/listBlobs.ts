import { resolveRepoForRead } from '../../../../accounts/repo-target.ts'
import { listBlobCids } from '../../../../db/blobs.ts'
import { getDb } from '../../../../db/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'

interface Params {
  did: string
  since?: string
  limit: number
  cursor?: string
}

/**
 * The account's referenced blobs (temporary uploads are not listed), in CID order; with
 * `since`, only those referenced by records written after that rev.
 */
export const listBlobs = defineMethod<Params>({
  nsid: 'com.atproto.sync.listBlobs',
  async handler({ params, env }) {
    const db = getDb(env.DB)
    const account = await resolveRepoForRead(db, params.did)
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) =>
        listBlobCids(db, { did: account.did, since: params.since, cursor: params.cursor, limit }),
      (cid) => cid,
    )
    return { body: pageBody('cids', rows, cursor) }
  },
})
