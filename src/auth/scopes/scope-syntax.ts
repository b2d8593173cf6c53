/**
 * The general syntax of a permission scope string (atproto.com/specs/permission, "Scope String
 * Syntax"): `resource[:positional][?name=value&name=value...]`, case-sensitive, printable
 * non-whitespace ASCII, with percent-encoding in the positional part and the values. This
 * module knows no resource: it splits a string into its parts and joins them back in the
 * canonical form; `resources.ts` gives the parts their meaning.
 */

export interface ScopeSyntax {
  resource: string
  /** Decoded; undefined when there is no `:` before the `?`. */
  positional: string | undefined
  /** Decoded values by name, repeated names in order. */
  params: ReadonlyMap<string, readonly string[]>
}

/** Printable ASCII without space: what the spec allows in a scope string. */
const SCOPE_CHARS = /^[\x21-\x7e]+$/

/** Splits one scope token; null when it is not of the general syntax (or not decodable). */
export function parseScopeSyntax(token: string): ScopeSyntax | null {
  if (!SCOPE_CHARS.test(token)) return null
  const query = token.indexOf('?')
  const colon = token.indexOf(':')
  const resourceEnd = firstIndex(query, colon)
  if (resourceEnd === -1) return { resource: token, positional: undefined, params: new Map() }
  const hasPositional = colon !== -1 && (query === -1 || colon < query)
  try {
    const positional = hasPositional
      ? decodeURIComponent(token.slice(colon + 1, query === -1 ? undefined : query))
      : undefined
    const params = new Map<string, string[]>()
    // @NOTE URLSearchParams reads `+` as a space, as the reference implementation does; a
    // value that needs a literal `+` (image/svg+xml) is sent as %2B or in the positional part.
    if (query !== -1) {
      for (const [name, value] of new URLSearchParams(token.slice(query + 1))) {
        const values = params.get(name)
        if (values) values.push(value)
        else params.set(name, [value])
      }
    }
    return { resource: token.slice(0, resourceEnd), positional, params }
  } catch {
    return null // a malformed percent-escape
  }
}

/** Characters left as they are in the canonical form although encodeURIComponent escapes them. */
const KEPT_AS_IS: ReadonlyMap<string, string> = new Map(
  [':', '/', '+', ',', '@', '%'].map((c) => [encodeURIComponent(c), c]),
)

/** The canonical string: the positional part, then the params in the order given. */
export function formatScopeSyntax(
  resource: string,
  positional: string | undefined,
  params: readonly (readonly [string, string])[],
): string {
  let scope = resource
  if (positional !== undefined) scope += `:${keepReadable(encodeURIComponent(positional))}`
  if (params.length > 0) {
    const query = new URLSearchParams(params.map(([name, value]) => [name, value]))
    scope += `?${keepReadable(query.toString())}`
  }
  return scope
}

function keepReadable(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (percent) => KEPT_AS_IS.get(percent) ?? percent)
}

function firstIndex(a: number, b: number): number {
  if (a === -1) return b
  if (b === -1) return a
  return Math.min(a, b)
}
