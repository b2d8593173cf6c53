import { getDb } from '../../../../db/index.ts'
import { getIndexedRecord } from '../../../../db/record-reads.ts'
import { resolveRepoForRead } from '../../../../services/repo-target.ts'
import { AtUri } from '../../../../syntax/index.ts'
import { InvalidRequestError } from '../../../../xrpc/errors.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

interface Params {
  repo: string
  collection: string
  rkey: string
  cid?: string
}

/** One record from the D1 index (the account's Durable Object is not woken). */
export const getRecord = defineMethod<Params>({
  nsid: 'com.atproto.repo.getRecord',
  async handler({ params, env }) {
    const db = getDb(env.DB)
    const account = await resolveRepoForRead(db, params.repo)
    const row = await getIndexedRecord(db, account.did, params.collection, params.rkey)
    const uri = AtUri.make(account.did, params.collection, params.rkey).toString()
    if (!row || (params.cid !== undefined && row.cid !== params.cid)) {
      throw new InvalidRequestError(`Could not locate record: ${uri}`, 'RecordNotFound')
    }
    return { body: { uri, cid: row.cid, value: JSON.parse(row.value) } }
  },
})
