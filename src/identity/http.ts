/**
 * Fetch plumbing shared by the identity clients: an injectable fetch, a deadline on the whole
 * exchange (headers and body), and bounded body reads for responses from untrusted hosts.
 */

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>

// @NOTE workerd throws "Illegal invocation" when its fetch is called as a method of another
// object, so the global is always called through this wrapper, never stored and invoked.
export const globalFetch: FetchFn = (input, init) => fetch(input, init)

export class HttpFetchError extends Error {
  override name = 'HttpFetchError'
  readonly timedOut: boolean

  constructor(message: string, timedOut: boolean, options?: ErrorOptions) {
    super(message, options)
    this.timedOut = timedOut
  }
}

/**
 * Fetches with a deadline; network failures and timeouts become HttpFetchError. Redirects are
 * not followed (a 3xx is answered as it is): a URL checked before the call must be the URL
 * fetched.
 */
export async function fetchWithTimeout(
  fetchFn: FetchFn,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetchFn(url, {
      redirect: 'manual',
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw toFetchError(err, url, timeoutMs)
  }
}

/** Reads a body as text, failing once it grows past `maxBytes`. */
export async function readTextLimited(
  response: Response,
  maxBytes: number,
  url: string,
  timeoutMs: number,
): Promise<string> {
  return new TextDecoder().decode(await readBytesLimited(response, maxBytes, url, timeoutMs))
}

/** Reads a body, failing once it grows past `maxBytes`. */
export async function readBytesLimited(
  response: Response,
  maxBytes: number,
  url: string,
  timeoutMs: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel()
    throw new HttpFetchError(`response from ${url} is larger than ${maxBytes} bytes`, false)
  }
  if (!response.body) return new Uint8Array(0)
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await reader.cancel()
        throw new HttpFetchError(`response from ${url} is larger than ${maxBytes} bytes`, false)
      }
      chunks.push(value)
    }
  } catch (err) {
    if (err instanceof HttpFetchError) throw err
    throw toFetchError(err, url, timeoutMs)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/** Reads the whole body as text; a timeout or broken connection becomes HttpFetchError. */
export async function readText(
  response: Response,
  url: string,
  timeoutMs: number,
): Promise<string> {
  try {
    return await response.text()
  } catch (err) {
    throw toFetchError(err, url, timeoutMs)
  }
}

function toFetchError(err: unknown, url: string, timeoutMs: number): HttpFetchError {
  const name = err instanceof Error ? err.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new HttpFetchError(`request to ${url} timed out after ${timeoutMs} ms`, true, {
      cause: err,
    })
  }
  const detail = err instanceof Error ? err.message : String(err)
  return new HttpFetchError(`request to ${url} failed: ${detail}`, false, { cause: err })
}
