/**
 * DID resolution for the two blessed methods: did:plc through the configured PLC directory and
 * did:web through `https://<host>/.well-known/did.json`, with a small in-memory TTL cache.
 * https://atproto.com/specs/did
 */
import { isValidDid } from '../syntax/did.ts'
import {
  type DidDocument,
  ensureDidDocument,
  type ParsedDidDocument,
  parseDidDocument,
} from './did-document.ts'
import { DidDocumentError, DidNotFoundError, DidResolutionError } from './errors.ts'
import {
  type FetchFn,
  fetchWithTimeout,
  globalFetch,
  HttpFetchError,
  readTextLimited,
} from './http.ts'
import { PlcClient, PlcError } from './plc-client.ts'
import { checkServiceUrl, isLoopbackHostname, ServiceUrlError } from './service-url.ts'

export const DEFAULT_DID_TIMEOUT_MS = 3_000
export const DEFAULT_DID_CACHE_TTL_MS = 5 * 60_000
export const DEFAULT_DID_CACHE_MAX_ENTRIES = 1_000
/** did:web documents come from arbitrary hosts: cap what we are willing to read. */
export const MAX_DID_WEB_DOCUMENT_BYTES = 64 * 1024

export interface DidResolverOptions {
  /** Base URL of the PLC directory, e.g. `https://plc.directory`. */
  plcUrl: string
  fetch?: FetchFn
  timeoutMs?: number
  cacheTtlMs?: number
  cacheMaxEntries?: number
  /** Milliseconds since the epoch; injectable for cache tests. */
  now?: () => number
  /**
   * Local development: did:web may name `localhost` or `127.0.0.1`, with an encoded port
   * (`did:web:localhost%3A2583`), and is then fetched over plain http.
   */
  devMode?: boolean
}

export interface ResolveOptions {
  /** Skip the cache (the fresh answer still refreshes it). */
  forceRefresh?: boolean
}

interface CacheEntry {
  doc: DidDocument
  expiresAt: number
}

export class DidResolver {
  readonly #plc: PlcClient
  readonly #fetch: FetchFn
  readonly #timeoutMs: number
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #now: () => number
  readonly #devMode: boolean
  readonly #cache = new Map<string, CacheEntry>()

  constructor(opts: DidResolverOptions) {
    this.#fetch = opts.fetch ?? globalFetch
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_DID_TIMEOUT_MS
    this.#ttlMs = opts.cacheTtlMs ?? DEFAULT_DID_CACHE_TTL_MS
    this.#maxEntries = opts.cacheMaxEntries ?? DEFAULT_DID_CACHE_MAX_ENTRIES
    this.#now = opts.now ?? Date.now
    this.#devMode = opts.devMode ?? false
    this.#plc = new PlcClient(opts.plcUrl, this.#fetch, { timeoutMs: this.#timeoutMs })
  }

  /**
   * The DID document, or null when the DID does not exist (or is tombstoned). Throws
   * DidResolutionError for unsupported or malformed DIDs and for network or server failures.
   */
  async resolve(did: string, opts: ResolveOptions = {}): Promise<DidDocument | null> {
    if (!opts.forceRefresh) {
      const cached = this.#cache.get(did)
      if (cached && cached.expiresAt > this.#now()) return cached.doc
      if (cached) this.#cache.delete(did)
    }
    const doc = await this.#resolveUncached(did)
    if (doc) this.#remember(did, doc)
    else this.#cache.delete(did)
    return doc
  }

  /** Like `resolve`, parsed for atproto; a missing DID is a DidNotFoundError. */
  async resolveAtprotoData(did: string, opts: ResolveOptions = {}): Promise<ParsedDidDocument> {
    const doc = await this.resolve(did, opts)
    if (!doc) throw new DidNotFoundError(`DID not found: ${did}`)
    return parseDidDocument(doc)
  }

  /** Forgets one DID (after an identity update) or every cached document. */
  clearCache(did?: string): void {
    if (did === undefined) this.#cache.clear()
    else this.#cache.delete(did)
  }

  async #resolveUncached(did: string): Promise<DidDocument | null> {
    if (!isValidDid(did)) throw new DidResolutionError(`not a valid DID: ${JSON.stringify(did)}`)
    let doc: DidDocument | null
    if (did.startsWith('did:plc:')) doc = await this.#resolvePlc(did)
    else if (did.startsWith('did:web:')) doc = await this.#resolveWeb(did)
    else throw new DidResolutionError(`unsupported DID method: ${did.split(':')[1]}`)
    if (doc && doc.id !== did) {
      throw new DidResolutionError(`DID document for ${did} has a different id: ${doc.id}`)
    }
    return doc
  }

  async #resolvePlc(did: string): Promise<DidDocument | null> {
    try {
      return await this.#plc.getDocument(did)
    } catch (err) {
      // 410 is how plc.directory answers for a tombstoned DID.
      if (err instanceof PlcError && (err.status === 404 || err.status === 410)) return null
      const detail = err instanceof Error ? err.message : String(err)
      throw new DidResolutionError(`could not resolve ${did}: ${detail}`, { cause: err })
    }
  }

  async #resolveWeb(did: string): Promise<DidDocument | null> {
    const url = this.#didWebUrl(did)
    let text: string
    try {
      const response = await fetchWithTimeout(
        this.#fetch,
        url,
        { headers: { accept: 'application/did+ld+json, application/json' } },
        this.#timeoutMs,
      )
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel()
        return null
      }
      if (!response.ok) {
        await response.body?.cancel()
        throw new DidResolutionError(`could not resolve ${did}: ${url} answered ${response.status}`)
      }
      text = await readTextLimited(response, MAX_DID_WEB_DOCUMENT_BYTES, url, this.#timeoutMs)
    } catch (err) {
      if (err instanceof DidResolutionError) throw err
      const detail = err instanceof HttpFetchError ? err.message : String(err)
      throw new DidResolutionError(`could not resolve ${did}: ${detail}`, { cause: err })
    }
    try {
      return ensureDidDocument(JSON.parse(text))
    } catch (err) {
      const detail = err instanceof DidDocumentError ? err.message : 'invalid JSON'
      throw new DidResolutionError(`bad DID document for ${did}: ${detail}`, { cause: err })
    }
  }

  /** atproto allows hostname-only did:web; a port only for localhost in development. */
  #didWebUrl(did: string): string {
    const id = did.slice('did:web:'.length)
    if (id.includes(':')) {
      throw new DidResolutionError(`did:web with a path is not supported by atproto: ${did}`)
    }
    let host = id
    let port = ''
    const portMatch = /^(.+)%3[Aa](\d{1,5})$/.exec(id)
    if (portMatch) {
      host = portMatch[1]!
      port = portMatch[2]!
    }
    host = host.toLowerCase()
    if (host.includes('%') || !/^[a-z0-9.-]+$/.test(host)) {
      throw new DidResolutionError(`malformed did:web: ${did}`)
    }
    // Loopback is served over plain http in development; checkServiceUrl refuses it otherwise.
    const scheme = isLoopbackHostname(host) ? 'http' : 'https'
    const url = `${scheme}://${host}${port ? `:${port}` : ''}/.well-known/did.json`
    try {
      checkServiceUrl(url, { devMode: this.#devMode })
    } catch (err) {
      if (!(err instanceof ServiceUrlError)) throw err
      throw new DidResolutionError(`did:web host is not allowed (${err.message}): ${did}`)
    }
    return url
  }

  #remember(did: string, doc: DidDocument): void {
    this.#cache.delete(did)
    this.#cache.set(did, { doc, expiresAt: this.#now() + this.#ttlMs })
    // Map keeps insertion order, so the first key is the least recently stored.
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next().value
      if (oldest === undefined) break
      this.#cache.delete(oldest)
    }
  }
}
