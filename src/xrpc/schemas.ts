/**
 * What the dispatcher needs to know about a method from its Lexicon. Kept as a small
 * interface so the XRPC plumbing does not depend on how Lexicons are stored.
 */
export type XrpcMethodType = 'query' | 'procedure' | 'subscription'

export interface XrpcSchemas {
  /** null when no Lexicon defines this NSID as a method. */
  methodType(nsid: string): XrpcMethodType | null
  /** The declared input encoding (`application/json`, `*\/*`, ...), or null without input. */
  inputEncoding(nsid: string): string | null
  /** Validates and coerces raw query-string params; throws InvalidRequestError. */
  validateParams(nsid: string, raw: Record<string, string | string[]>): Record<string, unknown>
  /** Validates a JSON input (data-model form), returning it with defaults filled in. */
  validateInput(nsid: string, input: unknown): unknown
  /** Validates a JSON output (data-model form); throws an Error on mismatch. */
  validateOutput(nsid: string, output: unknown): void
}
