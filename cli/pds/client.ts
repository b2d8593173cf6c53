/**
 * XRPC calls to the PDS, with errors a person can act on: an unreachable PDS, a refused admin
 * password, a method this PDS does not have, or the method's own `{error, message}`.
 */
import type { Target } from './target.ts'

export class CliError extends Error {
  override name = 'CliError'
  /** Process exit code. */
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

/** The PDS has no such method (an older version, or one not implemented yet). */
export class MethodMissingError extends CliError {
  override name = 'MethodMissingError'
}

export interface XrpcClient {
  query<T>(
    nsid: string,
    params?: Record<string, string | string[] | number | undefined>,
    admin?: boolean,
  ): Promise<T>
  procedure<T>(nsid: string, input: unknown, admin?: boolean): Promise<T>
}

export function createClient(target: Target): XrpcClient {
  const call = async <T>(nsid: string, init: RequestInit, query: string, admin: boolean) => {
    const headers = new Headers(init.headers)
    if (admin) {
      if (!target.adminPassword) {
        throw new CliError(
          `no admin password for ${target.url}: set PDS_ADMIN_PASSWORD, pass --password, or use a config file`,
        )
      }
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`admin:${target.adminPassword}`).toString('base64')}`,
      )
    }
    const url = `${target.url}/xrpc/${nsid}${query}`
    let res: Response
    try {
      res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) })
    } catch (err) {
      const { cause } = err as { cause?: { code?: string; message?: string } }
      const why = cause?.code ?? cause?.message ?? (err as Error).message
      throw new CliError(
        `cannot reach the PDS at ${target.url} (${why}); is it running? (${target.source})`,
        2,
      )
    }
    const body = (await res.json().catch(() => null)) as { error?: string; message?: string } | null
    if (res.ok) return body as T
    const what = body?.error ? `${body.error}: ${body.message ?? ''}` : `HTTP ${res.status}`
    if (res.status === 401 && admin) {
      throw new CliError(`the PDS at ${target.url} refused the admin password (${what})`, 3)
    }
    if (res.status === 501 || (res.status === 404 && body?.error === 'MethodNotImplemented')) {
      throw new MethodMissingError(`the PDS at ${target.url} does not implement ${nsid} (${what})`)
    }
    throw new CliError(`${nsid} failed: ${what}`)
  }
  return {
    query: (nsid, params = {}, admin = false) => {
      const search = new URLSearchParams()
      for (const [key, value] of Object.entries(params)) {
        if (value === undefined) continue
        for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item))
      }
      const qs = search.toString()
      return call(nsid, { method: 'GET' }, qs ? `?${qs}` : '', admin)
    },
    procedure: (nsid, input, admin = false) =>
      call(
        nsid,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input ?? {}),
        },
        '',
        admin,
      ),
  }
}
