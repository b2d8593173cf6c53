/**
 * `request-crawl [relay...]`: asks relays to crawl this PDS (`com.atproto.sync.requestCrawl`
 * on each relay, naming our hostname). The relays are the arguments, else the PDS's own
 * PDS_CRAWLERS when this checkout knows it, else bsky.network.
 */
import { CliError } from '../client.ts'
import type { Command } from './context.ts'

export function relaysOf(settings: Record<string, string> | null): string[] | null {
  const raw = settings?.PDS_CRAWLERS?.trim()
  if (!settings) return null
  if (!raw) return ['bsky.network']
  if (raw.toLowerCase() === 'none') return []
  return raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
}

export const requestCrawl: Command = async (ctx) => {
  const relays =
    ctx.args.length > 0 ? ctx.args : (relaysOf(ctx.target.settings) ?? ['bsky.network'])
  if (relays.length === 0) {
    throw new CliError(
      'no relay to ask (PDS_CRAWLERS is none): name one, e.g. request-crawl bsky.network',
    )
  }
  const hostname = new URL(ctx.target.url).hostname
  const rows: { relay: string; result: string }[] = []
  for (const relay of relays) {
    const origin = relay.includes('://') ? relay.replace(/\/+$/, '') : `https://${relay}`
    let result: string
    try {
      const res = await fetch(`${origin}/xrpc/com.atproto.sync.requestCrawl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostname }),
        signal: AbortSignal.timeout(30_000),
      })
      result = res.ok ? 'ok' : `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`
    } catch (err) {
      result = `unreachable (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`
    }
    rows.push({ relay, result })
  }
  ctx.out.table(rows, { hostname, relays: rows })
  if (rows.some((r) => r.result !== 'ok'))
    throw new CliError('some relays did not accept the request')
}
