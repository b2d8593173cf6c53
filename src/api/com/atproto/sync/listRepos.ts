import { getDb } from '../../../../db/index.ts'
import { listRepoHeads } from '../../../../sync/repo-listing.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'

interface Params {
  limit: number
  cursor?: string
}

/**
 * Every repo hosted here with its head and status, in DID order (relays list them to
 * backfill). The cursor is the last DID of a page; no cursor means the end.
 */
export const listRepos = defineMethod<Params>({
  nsid: 'com.atproto.sync.listRepos',
  async handler({ params, env }) {
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) => listRepoHeads(getDb(env.DB), { cursor: params.cursor, limit }),
      (row) => row.did,
    )
    const repos = rows.map((row) => {
      const active = row.status === 'active'
      return active
        ? { did: row.did, head: row.head, rev: row.rev, active }
        : { did: row.did, head: row.head, rev: row.rev, active, status: row.status }
    })
    return { body: pageBody('repos', repos, cursor) }
  },
})
