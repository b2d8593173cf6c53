/**
 * Errors a repo operation reports to its caller, and how they cross Workers RPC.
 *
 * An exception thrown across RPC loses its class and own properties, so the Durable Object
 * does not throw these: it returns `{ok: false, error: {name, message}}` (an AccountResult),
 * and the Worker calls `unwrapAccountResult`, which throws a RepoWriteError again on its side.
 * Anything else thrown (a bug, a storage failure) propagates as a plain error (a 500).
 */

/**
 * `name` is the XRPC error name to send where the Lexicon declares one (InvalidSwap,
 * RepoNotFound, RecordNotFound); the others are for the handler to map (suggested statuses in
 * ARCHITECTURE.md).
 */
export type RepoErrorName =
  | 'InvalidRequest'
  | 'InvalidSwap'
  | 'RecordNotFound'
  | 'RecordAlreadyExists'
  | 'RepoNotFound'
  | 'RepoAlreadyExists'
  | 'AccountDeactivated'
  | 'AccountTakedown'
  | 'AccountSuspended'
  | 'AccountDeleted'
  | 'RateLimitExceeded'

export class RepoWriteError extends Error {
  override name = 'RepoWriteError'
  readonly xrpcError: RepoErrorName
  /** RateLimitExceeded: seconds until the window that refused the write ends. */
  readonly retryAfter?: number

  constructor(xrpcError: RepoErrorName, message: string, retryAfter?: number) {
    super(message)
    this.xrpcError = xrpcError
    if (retryAfter !== undefined) this.retryAfter = retryAfter
  }
}

export type AccountFailure = {
  ok: false
  error: { name: RepoErrorName; message: string; retryAfter?: number }
}

export type AccountResult<T> = { ok: true; value: T } | AccountFailure

/** Runs `fn`, turning a RepoWriteError into a failure result; other errors are rethrown. */
export async function toAccountResult<T>(fn: () => Promise<T>): Promise<AccountResult<T>> {
  try {
    return { ok: true, value: await fn() }
  } catch (err) {
    if (err instanceof RepoWriteError) {
      const { xrpcError: name, message, retryAfter } = err
      return {
        ok: false,
        error: { name, message, ...(retryAfter === undefined ? {} : { retryAfter }) },
      }
    }
    throw err
  }
}

/** The value of a result, or its error thrown as a RepoWriteError. */
export function unwrapAccountResult<T>(result: AccountResult<T>): T {
  if (result.ok) return result.value
  const { name, message, retryAfter } = result.error
  throw new RepoWriteError(name, message, retryAfter)
}
