/**
 * The three relay methods the relay doctor calls: `getHostStatus`, `getRepoStatus` and
 * `requestCrawl`. Each URL passes the one SSRF check (src/identity/service-url.ts) before it
 * is fetched, each exchange has a deadline and each answer is read with a size bound: a relay
 * is configured by the operator, but what it answers is not ours.
 */

import { type FetchFn, fetchWithTimeout, globalFetch, readTextLimited } from '../identity/http.ts'
import { checkServiceUrl } from '../identity/service-url.ts'

const TIMEOUT_MS = 10_000
const MAX_ANSWER_BYTES = 64 * 1024

/** What a relay says of our host; `found: false` when it does not know us (HostNotFound). */
export type RelayHostView =
  | { found: false }
  | {
      found: true
      status: string | null
      seq: number | null
      accountCount: number | null
      /** Not in the Lexicon; read when a relay adds it, else the doctor assumes a new host's. */
      accountLimit: number | null
    }

/** What a relay says of one repo; `found: false` when it does not have it (RepoNotFound). */
export type RelayRepoView =
  | { found: false }
  | { found: true; active: boolean; status: string | null; rev: string | null }

/** The base URL of a crawler entry (PDS_CRAWLERS): a hostname (https) or a full origin. */
export function relayOrigin(crawler: string): string {
  const base = /^https?:\/\//i.test(crawler) ? crawler : `https://${crawler}`
  return base.replace(/\/+$/, '')
}

export class RelayCallError extends Error {
  override name = 'RelayCallError'
}

export interface RelayClientOptions {
  devMode: boolean
  fetch?: FetchFn
  timeoutMs?: number
}

export class RelayClient {
  readonly relay: string
  private readonly origin: string
  private readonly fetchFn: FetchFn
  private readonly timeoutMs: number

  constructor(relay: string, opts: RelayClientOptions) {
    this.relay = relay
    // Throws ServiceUrlError for an address we must not call (checked once, used for every call).
    this.origin = checkServiceUrl(relayOrigin(relay), { devMode: opts.devMode }).origin
    this.fetchFn = opts.fetch ?? globalFetch
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS
  }

  async getHostStatus(hostname: string): Promise<RelayHostView> {
    const answer = await this.query('com.atproto.sync.getHostStatus', { hostname })
    if (answer.notFound === 'HostNotFound') return { found: false }
    const body = answer.body
    return {
      found: true,
      status: stringOr(body.status),
      seq: integerOr(body.seq),
      accountCount: integerOr(body.accountCount),
      accountLimit: integerOr(body.accountLimit),
    }
  }

  async getRepoStatus(did: string): Promise<RelayRepoView> {
    const answer = await this.query('com.atproto.sync.getRepoStatus', { did })
    if (answer.notFound === 'RepoNotFound') return { found: false }
    const body = answer.body
    if (typeof body.active !== 'boolean') {
      throw new RelayCallError(`${this.relay}: getRepoStatus answered without "active"`)
    }
    return {
      found: true,
      active: body.active,
      status: stringOr(body.status),
      rev: stringOr(body.rev),
    }
  }

  /** Asks the relay to crawl `hostname`; throws RelayCallError (e.g. HostBanned) on refusal. */
  async requestCrawl(hostname: string): Promise<void> {
    const url = `${this.origin}/xrpc/com.atproto.sync.requestCrawl`
    const res = await this.call(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname }),
    })
    const text = await readTextLimited(res, MAX_ANSWER_BYTES, url, this.timeoutMs)
    if (!res.ok) throw new RelayCallError(`${this.relay}: requestCrawl ${describe(res, text)}`)
  }

  /** A GET; a 4xx naming HostNotFound/RepoNotFound (or a bare 404) is `notFound`. */
  private async query(
    nsid: string,
    params: Record<string, string>,
  ): Promise<{ notFound: string | null; body: Record<string, unknown> }> {
    const url = `${this.origin}/xrpc/${nsid}?${new URLSearchParams(params)}`
    const res = await this.call(url, { method: 'GET', headers: { accept: 'application/json' } })
    const text = await readTextLimited(res, MAX_ANSWER_BYTES, url, this.timeoutMs)
    const body = parseObject(text)
    if (res.ok) {
      if (!body) throw new RelayCallError(`${this.relay}: ${nsid} answered no JSON object`)
      return { notFound: null, body }
    }
    const error = typeof body?.error === 'string' ? body.error : null
    if (error === 'HostNotFound' || error === 'RepoNotFound') return { notFound: error, body: {} }
    if (res.status === 404 && !error) {
      const missing = nsid.endsWith('getHostStatus') ? 'HostNotFound' : 'RepoNotFound'
      return { notFound: missing, body: {} }
    }
    throw new RelayCallError(`${this.relay}: ${nsid} ${describe(res, text)}`)
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchWithTimeout(this.fetchFn, url, init, this.timeoutMs)
    } catch (err) {
      throw new RelayCallError(err instanceof Error ? err.message : String(err), { cause: err })
    }
  }
}

function describe(res: Response, text: string): string {
  const body = parseObject(text)
  const error = typeof body?.error === 'string' ? body.error : null
  return `failed: HTTP ${res.status}${error ? ` ${error}` : ''}`
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function integerOr(value: unknown): number | null {
  return Number.isSafeInteger(value) ? (value as number) : null
}
