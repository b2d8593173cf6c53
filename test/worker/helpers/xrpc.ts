/** Small XRPC client over SELF.fetch for workerd tests. */
import { SELF } from 'cloudflare:test'

export const BASE = 'http://localhost:2583'

export interface XrpcResult<T = Record<string, unknown>> {
  status: number
  body: T
  headers: Headers
}

export async function xrpcGet<T = Record<string, unknown>>(
  nsid: string,
  params: Record<string, string | number | boolean | string[]> = {},
  token?: string,
): Promise<XrpcResult<T>> {
  const url = new URL(`${BASE}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v))
  }
  const res = await SELF.fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: res.status, body: await parse<T>(res), headers: res.headers }
}

export async function xrpcPost<T = Record<string, unknown>>(
  nsid: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<XrpcResult<T>> {
  const res = await SELF.fetch(`${BASE}/xrpc/${nsid}`, {
    method: 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await parse<T>(res), headers: res.headers }
}

/**
 * Every response is read here, so this is where the suite holds the PDS to its promise that
 * no request gets a 500: an internal error fails the test that caused it.
 */
async function parse<T>(res: Response): Promise<T> {
  const text = await res.text()
  if (res.status === 500) throw new Error(`the PDS answered 500: ${text}`)
  if (!text) return {} as T
  try {
    return JSON.parse(text) as T
  } catch {
    return { raw: text } as T
  }
}

export interface TestAccount {
  did: string
  handle: string
  email: string
  password: string
  accessJwt: string
  refreshJwt: string
}

/** A handle under `.test` that no other test uses (label of at most 18 characters). */
export function uniqueHandle(prefix = 'user'): string {
  const suffix = crypto.randomUUID().replace(/-/g, '').slice(0, 8)
  return `${prefix.slice(0, 10)}${suffix}.test`
}

/** Creates an account with a unique handle under `.test`. */
export async function createTestAccount(prefix = 'user'): Promise<TestAccount> {
  const handle = uniqueHandle(prefix)
  const email = `${handle}@example.com`
  const password = 'correct horse battery'
  const res = await xrpcPost<TestAccount>('com.atproto.server.createAccount', {
    handle,
    email,
    password,
  })
  if (res.status !== 200) {
    throw new Error(`createAccount failed: ${res.status} ${JSON.stringify(res.body)}`)
  }
  return { ...res.body, email, password }
}
