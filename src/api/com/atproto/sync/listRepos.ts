import { listRepoHeads } from '../../../../sync/repo-listing.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { fetchPage, pageBody } from '../../../../xrpc/paging.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * Every repo hosted here with its head and status, in DID order (relays list them to
 * backfill). The cursor is the last DID of a page; no cursor means the end.
 */
export const listRepos = defineMethod('com.atproto.sync.listRepos', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params, db }) {
    const { rows, cursor } = await fetchPage(
      params.limit,
      (limit) => listRepoHeads(db, { cursor: params.cursor, limit }),
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
