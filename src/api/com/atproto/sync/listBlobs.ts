import { listBlobCids } from '../../../../db/blobs.ts'
import { getDb } from '../../../../db/index.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

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
    // One more than asked tells whether another page exists; no `cursor` means the end.
    const rows = await listBlobCids(db, {
      did: account.did,
      since: params.since,
      cursor: params.cursor,
      limit: params.limit + 1,
    })
    const cids = rows.slice(0, params.limit)
    const last = cids.at(-1)
    return { body: rows.length > params.limit && last ? { cids, cursor: last } : { cids } }
  },
})
