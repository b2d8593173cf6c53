import { listMissingBlobs as listMissing } from '../../../../db/blobs.ts'
import { getDb } from '../../../../db/index.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { type AccessAuth, accessStandard } from '../../../auth-verifiers.ts'

interface Params {
  limit: number
  cursor?: string
}

/**
 * Blobs the caller's records reference that this PDS does not hold (after an account
 * migration imported the repo), in CID order, one referencing record each.
 */
export const listMissingBlobs = defineMethod<Params, unknown, AccessAuth>({
  nsid: 'com.atproto.repo.listMissingBlobs',
  auth: accessStandard,
  async handler({ params, auth, env }) {
    // One more than asked tells whether another page exists; no `cursor` means the end.
    const rows = await listMissing(getDb(env.DB), {
      did: auth.did,
      cursor: params.cursor,
      limit: params.limit + 1,
    })
    const page = rows.slice(0, params.limit)
    const blobs = page.map((row) => ({
      cid: row.cid,
      recordUri: AtUri.make(auth.did, row.collection, row.rkey).toString(),
    }))
    const last = page.at(-1)
    return { body: rows.length > params.limit && last ? { blobs, cursor: last.cid } : { blobs } }
  },
})
