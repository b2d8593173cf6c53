import { getDb } from '../../../../db/index.ts'
import { listRepoHeads } from '../../../../sync/repo-listing.ts'
import { defineMethod } from '../../../../xrpc/method.ts'

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
    const rows = await listRepoHeads(getDb(env.DB), {
      cursor: params.cursor,
      limit: params.limit + 1,
    })
    const page = rows.slice(0, params.limit)
    const repos = page.map((row) => {
      const active = row.status === 'active'
      return active
        ? { did: row.did, head: row.head, rev: row.rev, active }
        : { did: row.did, head: row.head, rev: row.rev, active, status: row.status }
    })
    const last = page.at(-1)
    return { body: rows.length > params.limit && last ? { repos, cursor: last.did } : { repos } }
  },
})
