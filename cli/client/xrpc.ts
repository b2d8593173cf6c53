/**
 * A small XRPC client for the client commands: JSON queries and procedures, streamed bodies
 * both ways, a session that refreshes itself once its access token expires, and retries with
 * backoff for the calls that may safely be repeated.
 */

export class XrpcError extends Error {
  override name = 'XrpcError'
  readonly method: string
  readonly status: number
  readonly error: string
  /** Which server answered ("the old PDS"), once known. */
  server = 'the server'

  constructor(method: string, status: number, error: string, message: string) {
    super(message)
    this.method = method
    this.status = status
    this.error = error
  }
}

/** The server could not be reached at all (DNS, refused connection, reset, timeout). */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
}

export interface Session {
  did: string
  handle: string
  accessJwt: string
  refreshJwt: string
  email?: string
}

type Params = Record<string, string | number | boolean | undefined>

export interface CallOptions {
  params?: Params
  /** A JSON value, or a factory of a fresh body (a stream can be read only once). */
  body?: unknown
  bodyFactory?: () => Promise<{ body: BodyInit; type: string; length?: number }>
  /** `session` (default when signed in), `none`, or a bearer token such as service auth. */
  auth?: 'session' | 'none' | { bearer: string }
  /** Safe to repeat after a network failure, a 5xx or a 429. Queries always are. */
  retry?: boolean
  headers?: Record<string, string>
}

const RETRIES = 5

export class XrpcClient {
  session: Session | null = null
  readonly service: string
  /** How messages name this server ("the old PDS"). */
  readonly label: string

  constructor(service: string, label: string) {
    this.service = service
    this.label = label
  }

  async login(identifier: string, password: string): Promise<Session> {
    const out = await this.procedure<Session>('com.atproto.server.createSession', {
      body: { identifier, password },
      auth: 'none',
    })
    this.session = out
    return out
  }

  query<T>(nsid: string, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('GET', nsid, { retry: true, ...opts })
  }

  procedure<T>(nsid: string, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('POST', nsid, opts)
  }

  /** A successful response whose body the caller reads (a CAR, a blob). */
  async stream(nsid: string, opts: CallOptions = {}): Promise<Response> {
    return this.send('GET', nsid, { retry: true, ...opts })
  }

  private async json<T>(verb: 'GET' | 'POST', nsid: string, opts: CallOptions): Promise<T> {
    const res = await this.send(verb, nsid, opts)
    const text = await res.text()
    return (text ? JSON.parse(text) : {}) as T
  }

  async send(verb: 'GET' | 'POST', nsid: string, opts: CallOptions): Promise<Response> {
    let refreshed = false
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await fetch(this.url(nsid, opts.params), await this.init(verb, opts))
      } catch (err) {
        // Nothing listening, or no such host: waiting will not help.
        const permanent = ['ECONNREFUSED', 'ENOTFOUND'].includes(causeOf(err))
        if (opts.retry && !permanent && attempt < RETRIES) {
          await backoff(attempt)
          continue
        }
        throw new UnreachableError(`cannot reach ${this.label} (${this.service}): ${causeOf(err)}`)
      }
      if (res.ok) return res
      const failure = await readError(nsid, res)
      failure.server = `${this.label} (${this.service})`
      if (failure.error === 'ExpiredToken' && !refreshed && this.usesSession(opts)) {
        refreshed = true
        await this.refresh()
        continue
      }
      const transient = res.status >= 500 || res.status === 429
      if (transient && opts.retry && attempt < RETRIES) {
        await backoff(attempt, res.headers.get('retry-after'))
        continue
      }
      throw failure
    }
  }

  private usesSession(opts: CallOptions): boolean {
    return (opts.auth ?? 'session') === 'session' && this.session !== null
  }

  private async refresh(): Promise<void> {
    const session = this.session
    if (!session) return
    const res = await fetch(this.url('com.atproto.server.refreshSession'), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.refreshJwt}` },
    }).catch((err) => {
      throw new UnreachableError(`cannot reach ${this.label} (${this.service}): ${causeOf(err)}`)
    })
    if (!res.ok) throw await readError('com.atproto.server.refreshSession', res)
    this.session = { ...session, ...((await res.json()) as Session) }
  }

  private url(nsid: string, params: Params = {}): string {
    const url = new URL(`/xrpc/${nsid}`, this.service)
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    return url.href
  }

  private async init(verb: 'GET' | 'POST', opts: CallOptions): Promise<RequestInit> {
    const headers: Record<string, string> = { ...opts.headers }
    const auth = opts.auth ?? 'session'
    if (auth === 'session' && this.session) {
      headers.authorization = `Bearer ${this.session.accessJwt}`
    } else if (typeof auth === 'object') {
      headers.authorization = `Bearer ${auth.bearer}`
    }
    if (verb === 'GET') return { method: verb, headers }
    if (opts.bodyFactory) {
      const { body, type, length } = await opts.bodyFactory()
      headers['content-type'] = type
      if (length !== undefined) headers['content-length'] = String(length)
      return { method: verb, headers, body, duplex: 'half' } as RequestInit
    }
    if (opts.body === undefined) return { method: verb, headers }
    headers['content-type'] = 'application/json'
    return { method: verb, headers, body: JSON.stringify(opts.body) }
  }
}

async function readError(method: string, res: Response): Promise<XrpcError> {
  const text = await res.text().catch(() => '')
  let error = `HTTP${res.status}`
  let message = text.slice(0, 300) || res.statusText
  try {
    const body = JSON.parse(text) as { error?: string; message?: string }
    if (body.error) error = body.error
    if (body.message) message = body.message
    else if (body.error) message = body.error
  } catch {
    // not JSON: keep the text
  }
  return new XrpcError(method, res.status, error, message)
}

/** The low-level reason of a failed fetch (ECONNREFUSED...), else its message. */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}

/** Exponential backoff with jitter: about 0.5, 1, 2, 4, 8 seconds; honours Retry-After. */
export async function backoff(attempt: number, retryAfter?: string | null): Promise<void> {
  const asked = retryAfter ? Number(retryAfter) * 1000 : Number.NaN
  const delay = Number.isFinite(asked)
    ? Math.min(asked, 30_000)
    : 500 * 2 ** attempt * (0.75 + Math.random() / 2)
  await new Promise((resolve) => setTimeout(resolve, delay))
}
