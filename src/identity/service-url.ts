/**
 * Whether a URL taken from someone else's data (a DID document's service endpoint, a did:web
 * host) may be fetched: the one check the proxy, the feed-generator lookup and identity
 * resolution share, so that nobody can point this server at its own network.
 *
 * Outside development only `https` to a public hostname on the default port passes: no IP
 * literals (so no loopback, private or link-local addresses written as numbers), no names
 * that only resolve locally (`localhost`, `.local`, `.internal`, ...), no other port. Local
 * development also allows loopback (`localhost`, `127.0.0.1`, `[::1]`) over plain http, on any
 * port.
 *
 * @NOTE A public name whose DNS points at a private address is not caught here: a Worker
 * cannot see what a name resolves to, and Cloudflare's fetch does not reach private networks.
 */

export class ServiceUrlError extends Error {
  override name = 'ServiceUrlError'
}

/** Top-level names that never denote a public service. */
const LOCAL_TLDS = new Set(['localhost', 'local', 'internal', 'arpa', 'invalid', 'test', 'onion'])

/** The URL, if it may be fetched; ServiceUrlError says why not. */
export function checkServiceUrl(raw: string, opts: { devMode: boolean }): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ServiceUrlError('not a URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ServiceUrlError('not an http(s) URL')
  }
  if (url.username || url.password) throw new ServiceUrlError('credentials in the URL')
  if (opts.devMode && isLoopbackHostname(url.hostname)) return url
  if (url.protocol !== 'https:') throw new ServiceUrlError('not https')
  if (isIpLiteral(url.hostname)) throw new ServiceUrlError('an IP address, not a hostname')
  const labels = url.hostname.split('.')
  const tld = labels.at(-1) ?? ''
  if (labels.length < 2 || !/^[a-z][a-z0-9-]*$/.test(tld) || LOCAL_TLDS.has(tld)) {
    throw new ServiceUrlError('not a public hostname')
  }
  if (url.port) throw new ServiceUrlError('not on the default https port')
  return url
}

/** `checkServiceUrl` as a yes or no. */
export function isServiceUrlAllowed(raw: string, opts: { devMode: boolean }): boolean {
  try {
    checkServiceUrl(raw, opts)
    return true
  } catch (err) {
    if (err instanceof ServiceUrlError) return false
    throw err
  }
}

/** `localhost` (and its subdomains), `127.x.x.x` or `[::1]`. */
export function isLoopbackHostname(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  )
}

/** The URL parser has already turned every IPv4 spelling (hex, octal, one number) into dotted form. */
function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(hostname)
}
