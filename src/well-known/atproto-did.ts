/**
 * `GET /.well-known/atproto-did`: HTTPS handle verification. The handle is the request's
 * Host; we answer for accounts whose handle is under one of our handle domains.
 */
import type { Config } from '../config.ts'
import { getAccountByHandle, isActive } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'

export async function serveAtprotoDid(request: Request, db: Db, config: Config): Promise<Response> {
  const host = new URL(request.url).hostname.toLowerCase()
  const ours = config.handleDomains.some((domain) => host.endsWith(domain))
  const row = ours ? await getAccountByHandle(db, host) : null
  if (!row || !isActive(row)) {
    return new Response('User not found', {
      status: 404,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    })
  }
  return new Response(row.did, { headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}
