/**
 * The one error mapping (src/xrpc/errors.ts): domain errors keep their XRPC name and get the
 * status of their kind; XRPC errors pass as they are; anything else is a bare 500.
 */
import { describe, expect, it } from 'vitest'
import { DomainError, type RefusalKind } from '../../src/errors.ts'
import { InvalidRequestError, toErrorResponse, toXrpcError } from '../../src/xrpc/errors.ts'

describe('toXrpcError', () => {
  it('maps each kind of domain error to its status, keeping name and message', () => {
    const cases: [RefusalKind, string, number][] = [
      ['invalid-request', 'InvalidHandle', 400],
      ['auth-required', 'AccountSuspended', 401],
      ['forbidden', 'Forbidden', 403],
      ['payload-too-large', 'PayloadTooLarge', 413],
      ['upstream-failure', 'UpstreamFailure', 502],
    ]
    for (const [kind, error, status] of cases) {
      const err = new DomainError(kind, error, `refused: ${kind}`)
      expect(toXrpcError(err)).toMatchObject({ status, error, message: `refused: ${kind}` })
    }
  })

  it('asks for a bearer token on a 401, as an AuthRequiredError does', async () => {
    const err = new DomainError('auth-required', 'AccountSuspended', 'Account is suspended')
    const res = toErrorResponse(err)
    expect(res.status).toBe(401)
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await res.json()).toEqual({ error: 'AccountSuspended', message: 'Account is suspended' })
  })

  it('passes XRPC errors through and hides anything else behind a 500', () => {
    const xrpc = new InvalidRequestError('bad', 'InvalidSwap')
    expect(toXrpcError(xrpc)).toBe(xrpc)
    expect(toXrpcError(new Error('secret detail'))).toMatchObject({
      status: 500,
      error: 'InternalServerError',
      message: 'Internal Server Error',
    })
  })
})
