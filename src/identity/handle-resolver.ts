/**
 * Handle to DID resolution: a DNS TXT record `_atproto.<handle>` = `did=<DID>` (looked up
 * through DNS-over-HTTPS, since Workers have no resolver), else the text of
 * `https://<handle>/.well-known/atproto-did`.
 * https://atproto.com/specs/handle
 *
 * @NOTE This only finds the DID a handle claims; callers must still check that the DID
 * document's handle points back (bidirectional verification).
 */
import { isValidDid } from '../syntax/did.ts'
import { isDisallowedHandleTld, isValidHandle, normalizeHandle } from '../syntax/handle.ts'
import { type FetchFn, fetchWithTimeout, globalFetch, readTextLimited } from './http.ts'

export const DEFAULT_DOH_URL = 'https://cloudflare-dns.com/dns-query'
export const DEFAULT_HANDLE_TIMEOUT_MS = 3_000
/** A DID is at most 2048 characters; leave room for surrounding whitespace. */
const MAX_WELL_KNOWN_BYTES = 4096
const MAX_DOH_RESPONSE_BYTES = 64 * 1024
const DNS_TYPE_TXT = 16
const DNS_STATUS_NOERROR = 0

export interface HandleResolverOptions {
  fetch?: FetchFn
  /** A DNS-over-HTTPS endpoint speaking the JSON API (`accept: application/dns-json`). */
  dohUrl?: string
  timeoutMs?: number
}

export class HandleResolver {
  readonly #fetch: FetchFn
  readonly #dohUrl: URL
  readonly #timeoutMs: number

  constructor(opts: HandleResolverOptions = {}) {
    this.#fetch = opts.fetch ?? globalFetch
    // Parsed here so that a misconfigured URL fails at start-up, not as "handle not found".
    this.#dohUrl = new URL(opts.dohUrl ?? DEFAULT_DOH_URL)
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_HANDLE_TIMEOUT_MS
  }

  /** The DID the handle claims, or null when neither method gives exactly one valid DID. */
  async resolve(handle: string): Promise<string | null> {
    const normalized = normalizeHandle(handle)
    if (!isValidHandle(normalized) || isDisallowedHandleTld(normalized)) return null
    // Both lookups start at once; DNS wins when it answers.
    const viaHttp = this.resolveHttp(normalized)
    const viaDns = await this.resolveDns(normalized)
    return viaDns ?? (await viaHttp)
  }

  /** The DID from `_atproto.<handle>` TXT records; null on none, several, or any failure. */
  resolveDns(handle: string): Promise<string | null> {
    return this.resolveTxtDid(`_atproto.${normalizeHandle(handle)}`)
  }

  /**
   * The DID that `did=` TXT records of a DNS name give (`_atproto.<handle>`, and
   * `_lexicon.<NSID authority>` for Lexicon resolution); null on none, several, or any failure.
   */
  async resolveTxtDid(name: string): Promise<string | null> {
    const url = new URL(this.#dohUrl)
    url.searchParams.set('name', name)
    url.searchParams.set('type', 'TXT')
    let body: unknown
    try {
      const response = await fetchWithTimeout(
        this.#fetch,
        url.toString(),
        { headers: { accept: 'application/dns-json' } },
        this.#timeoutMs,
      )
      if (!response.ok) {
        await response.body?.cancel()
        return null
      }
      const text = await readTextLimited(
        response,
        MAX_DOH_RESPONSE_BYTES,
        url.toString(),
        this.#timeoutMs,
      )
      body = JSON.parse(text)
    } catch {
      return null
    }
    return didFromTxtAnswers(body)
  }

  /** The DID served at `https://<handle>/.well-known/atproto-did`; null on any failure. */
  async resolveHttp(handle: string): Promise<string | null> {
    const url = `https://${normalizeHandle(handle)}/.well-known/atproto-did`
    try {
      const response = await fetchWithTimeout(
        this.#fetch,
        url,
        { headers: { accept: 'text/plain' } },
        this.#timeoutMs,
      )
      if (!response.ok) {
        await response.body?.cancel()
        return null
      }
      const did = (
        await readTextLimited(response, MAX_WELL_KNOWN_BYTES, url, this.#timeoutMs)
      ).trim()
      return isValidDid(did) ? did : null
    } catch {
      return null
    }
  }
}

/**
 * Reads a DNS JSON answer (`{Status, Answer: [{type, data}]}`) and returns the single DID named
 * by `did=` TXT records. Several records naming different DIDs are a failure.
 */
export function didFromTxtAnswers(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null
  const { Status, Answer } = body as { Status?: unknown; Answer?: unknown }
  if (Status !== DNS_STATUS_NOERROR || !Array.isArray(Answer)) return null
  const dids = new Set<string>()
  for (const record of Answer) {
    if (typeof record !== 'object' || record === null) continue
    const { type, data } = record as { type?: unknown; data?: unknown }
    if (type !== DNS_TYPE_TXT || typeof data !== 'string') continue
    const text = txtRecordText(data)
    if (text.startsWith('did=')) dids.add(text.slice('did='.length).trim())
  }
  if (dids.size !== 1) return null
  const [did] = dids
  return did !== undefined && isValidDid(did) ? did : null
}

/**
 * Some DoH servers give TXT data as presentation-format quoted strings (`"did=..."`, long
 * values split as `"abc" "def"`), others as the bare text: both become the joined text.
 */
export function txtRecordText(data: string): string {
  const trimmed = data.trim()
  if (!trimmed.startsWith('"')) return trimmed
  let out = ''
  const re = /"((?:[^"\\]|\\.)*)"/g
  for (let match = re.exec(trimmed); match; match = re.exec(trimmed)) {
    out += match[1]!.replace(/\\(\d{3}|.)/g, (_, esc: string) =>
      esc.length === 3 ? String.fromCharCode(Number(esc)) : esc,
    )
  }
  return out
}
