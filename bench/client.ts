/**
 * The one XRPC client both servers get: plain `fetch` (keep-alive), JSON in and out, each call
 * timed from the request to the last byte of the response.
 */

export interface XrpcResult<T = unknown> {
  status: number
  body: T
  /** Response size in bytes. */
  bytes: number
  /** From just before `fetch` to the last byte of the body. */
  ms: number
}

export class XrpcError extends Error {
  override name = 'XrpcError'
  readonly status: number
  readonly nsid: string

  constructor(nsid: string, status: number, detail: string) {
    super(`${nsid}: ${status} ${detail}`)
    this.status = status
    this.nsid = nsid
  }
}

export interface CallOptions {
  params?: Record<string, string | number | boolean | undefined>
  body?: unknown
  token?: string
  /** Read the body as bytes (a CAR) instead of JSON. */
  binary?: boolean
}

export class XrpcClient {
  readonly baseUrl: string

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
  }

  url(nsid: string, params?: CallOptions['params']): string {
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value !== undefined) query.set(key, String(value))
    }
    const qs = query.toString()
    return `${this.baseUrl}/xrpc/${nsid}${qs ? `?${qs}` : ''}`
  }

  /** A GET (query) or POST (procedure, when `body` is given); throws XrpcError unless 2xx. */
  async call<T = unknown>(nsid: string, opts: CallOptions = {}): Promise<XrpcResult<T>> {
    const headers: Record<string, string> = {}
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    const post = opts.body !== undefined
    if (post) headers['content-type'] = 'application/json'
    const start = performance.now()
    const res = await fetch(this.url(nsid, opts.params), {
      method: post ? 'POST' : 'GET',
      headers,
      body: post ? JSON.stringify(opts.body) : undefined,
    })
    const bytes = new Uint8Array(await res.arrayBuffer())
    const ms = performance.now() - start
    if (!res.ok) throw new XrpcError(nsid, res.status, describeError(bytes))
    const body = opts.binary ? bytes : bytes.length > 0 ? JSON.parse(decoder.decode(bytes)) : {}
    return { status: res.status, body: body as T, bytes: bytes.length, ms }
  }
}

const decoder = new TextDecoder()

function describeError(bytes: Uint8Array): string {
  const text = decoder.decode(bytes.subarray(0, 500))
  try {
    const json = JSON.parse(text) as { error?: string; message?: string }
    return [json.error, json.message].filter(Boolean).join(': ')
  } catch {
    return text
  }
}
