/**
 * The Durable Object bindings: the account object of a DID, the host's one sequencer, and the
 * account object's refusals turned into the XRPC errors the spec gives.
 */
import { type AccountResult, RepoWriteError, unwrapAccountResult } from './account/errors.ts'
import {
  AuthRequiredError,
  InvalidRequestError,
  RateLimitExceededError,
  type XrpcError,
} from './xrpc/errors.ts'

/** The name of the host's one sequencer object. */
export const SEQUENCER_NAME = 'main'

/** The account object of a DID: one per account, addressed by name. */
export function accountStub(env: Env, did: string) {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(did))
}

/** The host's one sequencer object. */
export function sequencerStub(env: Env) {
  return env.SEQUENCER.get(env.SEQUENCER.idFromName(SEQUENCER_NAME))
}

/** The value of an account RPC result, or the XRPC error for its refusal. */
export async function unwrapAccount<T>(result: Promise<AccountResult<T>>): Promise<T> {
  try {
    return unwrapAccountResult(await result)
  } catch (err) {
    if (err instanceof RepoWriteError) throw toXrpcError(err)
    throw err
  }
}

function toXrpcError(err: RepoWriteError): XrpcError {
  switch (err.xrpcError) {
    case 'AccountDeactivated':
    case 'AccountTakedown':
    case 'AccountSuspended':
    case 'AccountDeleted':
      // 401, as the reference PDS answers a write to a deactivated account.
      return new AuthRequiredError(err.message, err.xrpcError)
    case 'RepoNotFound':
      return new InvalidRequestError(err.message, 'RepoNotFound')
    case 'RateLimitExceeded':
      // The dispatcher's own refusal, with its Retry-After: the same answer as any limit.
      return new RateLimitExceededError(err.retryAfter ?? 1)
    default:
      return new InvalidRequestError(err.message, err.xrpcError)
  }
}
