/**
 * The few Cloudflare API calls the deploy makes itself (accounts, zones, D1 and R2 look-ups and
 * creation, D1 read replication); everything about the Worker goes through wrangler. The base URL is wrangler's
 * (`CLOUDFLARE_API_BASE_URL`), so both talk to the same API.
 */
export const DEFAULT_API_BASE_URL = 'https://api.cloudflare.com/client/v4'

export class CloudflareApiError extends Error {
  override name = 'CloudflareApiError'
  readonly status: number

  constructor(message: string, status: number) {
    super(message)
    this.status = status
  }
}

export interface CloudflareApi {
  get<T>(path: string, query?: Record<string, string>): Promise<T>
  post<T>(path: string, body: unknown): Promise<T>
  put<T>(path: string, body: unknown): Promise<T>
}

export function apiBaseUrl(): string {
  return (process.env.CLOUDFLARE_API_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '')
}

export function createCloudflareApi(token: string, baseUrl = apiBaseUrl()): CloudflareApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (err) {
      const { cause } = err as { cause?: { code?: string; message?: string } }
      const why = cause?.code ?? cause?.message ?? (err as Error).message
      throw new CloudflareApiError(`cannot reach ${baseUrl}: ${why}`, 0)
    }
    const envelope = (await res.json().catch(() => null)) as {
      success?: boolean
      result?: T
      errors?: { code?: number; message?: string }[]
    } | null
    if (!res.ok || !envelope?.success) {
      const why = envelope?.errors?.map((e) => `${e.message} (${e.code})`).join('; ')
      throw new CloudflareApiError(
        `${method} ${path}: ${res.status} ${why ?? res.statusText}`,
        res.status,
      )
    }
    return envelope.result as T
  }
  return {
    get: (path, query) =>
      call('GET', query ? `${path}?${new URLSearchParams(query).toString()}` : path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
  }
}
