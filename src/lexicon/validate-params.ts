/**
 * XRPC query parameters: coerces the raw query-string values to the types the `params`
 * schema declares (integer, boolean `true`/`false`, string, arrays from repeated
 * parameters), applies defaults, then validates them like any other value.
 * Parameters the schema doesn't declare are dropped.
 */
import type { LexParamType, LexPrimitive, LexXrpcParameters } from './types.ts'
import type { ValueValidator } from './validate-value.ts'

/** Query parameters as parsed from a URL: repeated parameters become arrays. */
export type RawXrpcParams = Record<string, string | string[] | undefined>

const INTEGER = /^-?[0-9]+$/

export function coerceXrpcParams(
  v: ValueValidator,
  def: LexXrpcParameters | undefined,
  raw: RawXrpcParams,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (def === undefined) return out
  const props = def.properties
  for (const key in props) {
    const prop = props[key]!
    const input = raw[key]
    if (input === undefined || (Array.isArray(input) && input.length === 0)) {
      if (prop.type !== 'array' && prop.default !== undefined) {
        out[key] = prop.default
      } else if (def.required?.includes(key)) {
        v.fail(`must have the property "${key}"`)
      }
      continue
    }
    v.enter(key)
    out[key] = v.validate(prop, coerceParam(v, prop, input))
    v.leave()
  }
  return out
}

function coerceParam(v: ValueValidator, def: LexParamType, input: string | string[]): unknown {
  if (def.type === 'array') {
    const items = Array.isArray(input) ? input : [input]
    const out = new Array<unknown>(items.length)
    for (let i = 0; i < items.length; i++) {
      v.enter(i)
      out[i] = coerceScalar(v, def.items, items[i]!)
      v.leave()
    }
    return out
  }
  if (Array.isArray(input)) {
    if (input.length > 1) v.fail('must not be repeated')
    return coerceScalar(v, def, input[0]!)
  }
  return coerceScalar(v, def, input)
}

function coerceScalar(v: ValueValidator, def: LexPrimitive, input: string): unknown {
  switch (def.type) {
    case 'integer': {
      if (!INTEGER.test(input)) v.fail('must be an integer')
      const n = Number(input)
      if (!Number.isSafeInteger(n)) v.fail('must be an integer')
      return n
    }
    case 'boolean':
      if (input === 'true') return true
      if (input === 'false') return false
      return v.fail('must be a boolean ("true" or "false")')
    case 'string':
      return input
  }
}
