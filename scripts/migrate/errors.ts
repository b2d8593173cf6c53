/**
 * Expected failures (wrong password, unreachable PDS, refused token...) are `MigrateError`s:
 * the command prints their message, never a stack trace.
 */
import { IdentityError } from './identity.ts'
import { PromptClosedError } from './prompt.ts'
import { UnreachableError, XrpcError } from './xrpc.ts'

export class MigrateError extends Error {
  override name = 'MigrateError'
}

/** The message for an expected failure, or null for a bug (printed with its stack). */
export function expectedFailure(err: unknown): string | null {
  if (err instanceof MigrateError || err instanceof IdentityError) return err.message
  if (err instanceof UnreachableError || err instanceof PromptClosedError) return err.message
  if (err instanceof XrpcError) {
    if (err.error === 'MethodNotImplemented') {
      return `${err.server} does not implement ${err.method}, which a migration needs`
    }
    return `${err.method} failed: ${err.error} (${err.status}): ${err.message}`
  }
  return null
}
