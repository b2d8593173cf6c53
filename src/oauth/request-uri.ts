/** `request_uri`s PAR gives out: a fixed prefix and the request's random id. */
const PREFIX = 'urn:ietf:params:oauth:request_uri:req-'

export function toRequestUri(id: string): string {
  return `${PREFIX}${id}`
}

/** The request id, or null for anything that is not one of ours. */
export function requestIdOf(requestUri: string | null | undefined): string | null {
  if (!requestUri?.startsWith(PREFIX)) return null
  const id = requestUri.slice(PREFIX.length)
  return /^[A-Za-z0-9_-]{20,100}$/.test(id) ? id : null
}
