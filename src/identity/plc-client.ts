/**
 * HTTP client for a PLC directory (plc.directory, or the local one in scripts/plc-server.mjs).
 * Every failure, from a refused operation to a dropped connection, is a PlcError.
 */
import { type DidDocument, ensureDidDocument } from './did-document.ts'
import { type FetchFn, fetchWithTimeout, globalFetch, HttpFetchError, readText } from './http.ts'
import {
  type PlcOperation,
  type PlcService,
  type PlcTombstone,
  parsePlcOperation,
  type SignedPlcOperation,
} from './plc-operation.ts'

export const DEFAULT_PLC_TIMEOUT_MS = 10_000

export class PlcError extends Error {
  override name = 'PlcError'
  /** HTTP status of the directory's answer; 0 when there was no answer (network, timeout). */
  readonly status: number

  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options)
    this.status = status
  }
}

/** The state a DID's operation log resolves to (`GET /:did/data`). */
export interface PlcDocumentData {
  did: string
  rotationKeys: string[]
  verificationMethods: Record<string, string>
  alsoKnownAs: string[]
  services: Record<string, PlcService>
}

export interface PlcAuditEntry {
  did: string
  operation: SignedPlcOperation
  cid: string
  nullified: boolean
  createdAt: string
}

export interface PlcClientOptions {
  timeoutMs?: number
}

export class PlcClient {
  readonly baseUrl: string
  readonly #fetch: FetchFn
  readonly #timeoutMs: number

  constructor(baseUrl: string, fetchFn: FetchFn = globalFetch, opts: PlcClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#fetch = fetchFn
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_PLC_TIMEOUT_MS
  }

  /** Creates the DID (genesis operation) or appends to its log. */
  async submitOperation(did: string, op: PlcOperation | PlcTombstone): Promise<void> {
    await this.#request(did, '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op),
    })
  }

  async getDocument(did: string): Promise<DidDocument> {
    const json = await this.#getJson(did, '')
    return this.#check(() => ensureDidDocument(json))
  }

  async getDocumentData(did: string): Promise<PlcDocumentData> {
    const json = await this.#getJson(did, '/data')
    return this.#check(() => ensureDocumentData(json))
  }

  /** The newest operation, whose CID is the `prev` of the next one. */
  async getLastOperation(did: string): Promise<SignedPlcOperation> {
    const json = await this.#getJson(did, '/log/last')
    return this.#check(() => parsePlcOperation(json))
  }

  /** Every operation of the DID, oldest first, nullified ones included. */
  async getAuditLog(did: string): Promise<PlcAuditEntry[]> {
    const json = await this.#getJson(did, '/log/audit')
    return this.#check(() => {
      if (!Array.isArray(json)) throw new Error('audit log is not an array')
      return json.map(ensureAuditEntry)
    })
  }

  async #getJson(did: string, suffix: string): Promise<unknown> {
    const text = await this.#request(did, suffix, {
      method: 'GET',
      headers: { accept: 'application/json' },
    })
    try {
      return JSON.parse(text)
    } catch (err) {
      throw new PlcError(200, 'PLC directory returned invalid JSON', { cause: err })
    }
  }

  async #request(did: string, suffix: string, init: RequestInit): Promise<string> {
    const url = `${this.baseUrl}/${encodeURIComponent(did)}${suffix}`
    let text: string
    let status: number
    try {
      const response = await fetchWithTimeout(this.#fetch, url, init, this.#timeoutMs)
      status = response.status
      text = await readText(response, url, this.#timeoutMs)
    } catch (err) {
      const message = err instanceof HttpFetchError ? err.message : String(err)
      throw new PlcError(0, `PLC directory unreachable: ${message}`, { cause: err })
    }
    if (status < 200 || status >= 300) {
      throw new PlcError(status, errorMessage(status, text))
    }
    return text
  }

  #check<T>(read: () => T): T {
    try {
      return read()
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err)
      throw new PlcError(200, `PLC directory returned an unexpected response: ${detail}`, {
        cause: err,
      })
    }
  }
}

/** The directory answers errors as `{"message": ...}`; anything else is reported by status. */
function errorMessage(status: number, body: string): string {
  try {
    const json: unknown = JSON.parse(body)
    if (isRecord(json) && typeof json.message === 'string') return json.message
  } catch {
    // not JSON: fall through
  }
  const text = body.trim().slice(0, 200)
  return text ? `PLC directory error ${status}: ${text}` : `PLC directory error ${status}`
}

function ensureDocumentData(json: unknown): PlcDocumentData {
  if (!isRecord(json) || typeof json.did !== 'string') throw new Error('no did')
  // The data has the shape of an unsigned operation minus type and prev: reuse its checks.
  const op = parsePlcOperation({ ...json, type: 'plc_operation', prev: null, sig: '' })
  if (op.type !== 'plc_operation') throw new Error('not document data')
  const { rotationKeys, verificationMethods, alsoKnownAs, services } = op
  return { did: json.did, rotationKeys, verificationMethods, alsoKnownAs, services }
}

function ensureAuditEntry(json: unknown): PlcAuditEntry {
  if (
    !isRecord(json) ||
    typeof json.did !== 'string' ||
    typeof json.cid !== 'string' ||
    typeof json.nullified !== 'boolean' ||
    typeof json.createdAt !== 'string'
  ) {
    throw new Error('malformed audit log entry')
  }
  return {
    did: json.did,
    operation: parsePlcOperation(json.operation),
    cid: json.cid,
    nullified: json.nullified,
    createdAt: json.createdAt,
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
