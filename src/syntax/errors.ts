/** The one error type thrown by every `ensureValid…` syntax check. */
export class InvalidSyntaxError extends Error {
  override name = 'InvalidSyntaxError'
}

const MAX_QUOTED = 64

/** Quotes a value for an error message, truncating long input (URIs may be 8 KiB). */
export function quoteValue(value: string): string {
  return value.length > MAX_QUOTED
    ? `${JSON.stringify(value.slice(0, MAX_QUOTED))}… (${value.length} chars)`
    : JSON.stringify(value)
}

/** Builds the error for `what` (e.g. "handle") with a reason saying what is wrong. */
export function syntaxError(what: string, value: string, reason: string): InvalidSyntaxError {
  return new InvalidSyntaxError(`Invalid ${what} ${quoteValue(value)}: ${reason}`)
}
