/** Data-model errors, which name where in a value the problem is. */

export class DataModelError extends Error {
  override name = 'DataModelError'
}

export type DataPath = Array<string | number>

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** `$.rcrd.a`, `$.arr[2]`, `$["odd key"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '$'
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (IDENTIFIER.test(part)) out += `.${part}`
    else out += `[${JSON.stringify(part)}]`
  }
  return out
}

export function errorAt(path: readonly (string | number)[], reason: string): DataModelError {
  return new DataModelError(`${formatPath(path)}: ${reason}`)
}

/** Short, printable rendering of a bad value for error messages. */
export function preview(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))
  } catch {
    text = describeType(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** `string`, `Map`, `Date`, ...: the kind of a value, for error messages. */
export function describeType(value: unknown): string {
  if (typeof value !== 'object' || value === null) return value === null ? 'null' : typeof value
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'object'
}
