/**
 * Where a proxied call goes and whom its service-auth token addresses [spec:xrpc].
 *
 * An `atproto-proxy: <did>#<service_id>` header names the service: its DID document (did:plc
 * or did:web, through the cached resolver) gives the endpoint of the service entry with that
 * id. Without the header, the configured defaults apply: the AppView for `app.bsky.*`, the
 * chat service for `chat.bsky.*`, the moderation service for reports and `tools.ozone.*`.
 *
 * The token's `aud` is the service DID with its `#service_id` fragment, the form the spec
 * gives going forward (a bare DID is legacy, used only when the operator configured one).
 */
import type { Config, ServiceConfig } from '../config.ts'
import { type DidDocument, getServiceEndpoint } from '../identity/did-document.ts'
import { didResolutionXrpcError } from '../identity/lookup.ts'
import { checkServiceUrl, ServiceUrlError } from '../identity/service-url.ts'
import { isValidDid } from '../syntax/did.ts'
import { InvalidRequestError } from '../xrpc/errors.ts'

export const PROXY_HEADER = 'atproto-proxy'

export interface ProxyTarget {
  /** Base URL of the service (`https://api.bsky.app`); `/xrpc/<nsid>` is appended. */
  url: string
  /** The `aud` of the service-auth token: `did:...#service_id`. */
  aud: string
}

export interface ServiceReference {
  did: string
  /** The service id without its `#`, e.g. `bsky_appview`. */
  serviceId: string
}

/** What the target needs of the DID resolver (the cached one of `identityServices`). */
export interface ServiceDidResolver {
  resolve(did: string): Promise<DidDocument | null>
}

/** Checks the header's syntax: one `#`, a DID before it, a service id after it. */
export function parseProxyHeader(value: string): ServiceReference {
  const trimmed = value.trim()
  const hash = trimmed.indexOf('#')
  if (hash === 0) throw new InvalidRequestError('no DID in the atproto-proxy header')
  if (hash === -1 || hash === trimmed.length - 1) {
    throw new InvalidRequestError('no service id in the atproto-proxy header')
  }
  if (trimmed.indexOf('#', hash + 1) !== -1 || /\s/.test(trimmed)) {
    throw new InvalidRequestError('the atproto-proxy header must be <did>#<service_id>')
  }
  const did = trimmed.slice(0, hash)
  if (!isValidDid(did)) throw new InvalidRequestError(`invalid DID in atproto-proxy: ${did}`)
  if (!did.startsWith('did:plc:') && !did.startsWith('did:web:')) {
    throw new InvalidRequestError(`unsupported DID method in atproto-proxy: ${did}`)
  }
  return { did, serviceId: trimmed.slice(hash + 1) }
}

/** The configured service for methods sent without an `atproto-proxy` header, if any. */
export function defaultService(nsid: string, config: Config): ServiceConfig | null {
  if (nsid.startsWith('app.bsky.')) return config.appView
  if (nsid.startsWith('chat.bsky.')) return config.chat
  if (nsid === 'com.atproto.moderation.createReport' || nsid.startsWith('tools.ozone.')) {
    return config.moderation
  }
  return null
}

/** Resolves a service reference to its endpoint. */
export async function resolveServiceReference(
  ref: ServiceReference,
  resolver: ServiceDidResolver,
  opts: { devMode: boolean },
): Promise<ProxyTarget> {
  let doc: DidDocument | null
  try {
    doc = await resolver.resolve(ref.did)
  } catch (err) {
    throw didResolutionXrpcError(err)
  }
  if (!doc) throw new InvalidRequestError(`could not resolve the proxy DID ${ref.did}`)
  const url = getServiceEndpoint(doc, `#${ref.serviceId}`)
  if (!url) {
    throw new InvalidRequestError(`${ref.did} has no service #${ref.serviceId} with an endpoint`)
  }
  // The token travels in the request, and the header is the caller's to choose: only a
  // public https service may be the target (loopback http in local development).
  try {
    checkServiceUrl(url, opts)
  } catch (err) {
    if (!(err instanceof ServiceUrlError)) throw err
    throw new InvalidRequestError(
      `the endpoint of ${ref.did}#${ref.serviceId} is not allowed: ${err.message}`,
    )
  }
  return { url: url.replace(/\/+$/, ''), aud: `${ref.did}#${ref.serviceId}` }
}

/**
 * The target of a call we forward: the `atproto-proxy` header when present, else the default
 * service for the method; null when neither names one.
 */
export async function resolveProxyTarget(
  nsid: string,
  headerValue: string | null,
  config: Config,
  resolver: ServiceDidResolver,
): Promise<ProxyTarget | null> {
  if (headerValue !== null) {
    return resolveServiceReference(parseProxyHeader(headerValue), resolver, config)
  }
  const service = defaultService(nsid, config)
  return service ? { url: service.url, aud: service.did } : null
}

/**
 * The `atproto-proxy` header when it names another service than `ours` (the configured
 * AppView for preferences): such a request goes there instead of being served here.
 */
export function otherServiceRequested(request: Request, ours: ServiceConfig | null): string | null {
  const header = request.headers.get(PROXY_HEADER)?.trim()
  if (!header) return null
  return header === ours?.did ? null : header
}
