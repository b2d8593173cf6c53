/**
 * `status`: health and version, what describeServer says, account counts (from listRepos), and
 * the mailer and relays when this checkout knows the PDS's settings (local dev, a deployment).
 */
import { listAllRepos } from './account.ts'
import type { Command } from './context.ts'
import { relaysOf } from './request-crawl.ts'

export const status: Command = async (ctx) => {
  const { version } = await ctx.client.query<{ version: string }>('_health')
  const server = await ctx.client.query<{
    did: string
    availableUserDomains: string[]
    inviteCodeRequired?: boolean
    contact?: { email?: string }
  }>('com.atproto.server.describeServer')
  const repos = await listAllRepos(ctx)
  const counts = { total: repos.length, active: 0, deactivated: 0, takendown: 0, other: 0 }
  for (const repo of repos) {
    if (repo.active) counts.active++
    else if (repo.status === 'deactivated') counts.deactivated++
    else if (repo.status === 'takendown') counts.takendown++
    else counts.other++
  }
  const settings = ctx.target.settings
  const mailer = settings ? settings.PDS_MAILER || 'none' : null
  const relays = relaysOf(settings)
  const unknown = 'unknown (not in this checkout)'
  ctx.out.fields(
    {
      url: ctx.target.url,
      health: 'ok',
      version,
      did: server.did,
      'handle domains': server.availableUserDomains,
      invites: server.inviteCodeRequired ? 'required' : 'not required',
      contact: server.contact?.email,
      accounts: `${counts.total} (${counts.active} active, ${counts.deactivated} deactivated, ${counts.takendown} taken down)`,
      mailer: mailer ?? unknown,
      relays: relays ? (relays.length ? relays : 'none') : unknown,
    },
    { url: ctx.target.url, health: 'ok', version, server, accounts: counts, mailer, relays },
  )
}
