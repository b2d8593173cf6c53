/**
 * Expected failures of the client commands (a wrong password, an unreachable PDS, a refused
 * token...): the command prints their message, never a stack trace.
 */
import { IdentityError } from './identity.ts'
import { PromptClosedError } from './secret-prompt.ts'
import { UnreachableError, XrpcError } from './xrpc.ts'

/** A failure the user can act on; each command may name its own (MigrateError, ...). */
export class ExpectedError extends Error {
  override name = 'ExpectedError'
}

/** The message for an expected failure, or null for a bug (printed with its stack). */
export function expectedFailure(err: unknown): string | null {
  if (err instanceof ExpectedError || err instanceof IdentityError) return err.message
  if (err instanceof UnreachableError || err instanceof PromptClosedError) return err.message
  if (err instanceof XrpcError) {
    if (err.error === 'MethodNotImplemented') {
      return `${err.server} does not implement ${err.method}, which this command needs`
    }
    return `${err.method} failed: ${err.error} (${err.status}): ${err.message}`
  }
  return null
}
