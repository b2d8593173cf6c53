/**
 * Strings of a JSON input that become keys or rows are bounded before anything is stored or
 * hashed (src/xrpc/input-bounds.ts): an identifier, password, email or name past its cap is
 * a 400 naming the field, without the account lookup or the password hash.
 */
import { describe, expect, it } from 'vitest'
import { createTestAccount, uniqueHandle, xrpcPost } from './helpers/xrpc.ts'

function expectTooLong(res: { status: number; body: Record<string, unknown> }, field: string) {
  expect(res.status).toBe(400)
  expect(res.body.error).toBe('InvalidRequest')
  expect(String(res.body.message)).toContain(field)
}

describe('bounded input strings', () => {
  it('createSession refuses a huge identifier or password before any lookup or hash', async () => {
    const ip = { 'cf-connecting-ip': '192.0.2.77' }
    const identifier = `${'a'.repeat(5000)}.test`
    expectTooLong(
      await xrpcPost(
        'com.atproto.server.createSession',
        { identifier, password: 'x' },
        undefined,
        ip,
      ),
      'identifier',
    )
    const account = await createTestAccount('bounds')
    const password = 'p'.repeat(257)
    expectTooLong(
      await xrpcPost(
        'com.atproto.server.createSession',
        { identifier: account.handle, password },
        undefined,
        ip,
      ),
      'password',
    )
    // At the cap, the password is checked as usual (wrong here).
    const atCap = await xrpcPost(
      'com.atproto.server.createSession',
      { identifier: account.handle, password: 'p'.repeat(256) },
      undefined,
      ip,
    )
    expect(atCap.status).toBe(401)
  })

  it('createAccount refuses an over-long email or password, revokeAppPassword a long name', async () => {
    const handle = uniqueHandle('bounds')
    expectTooLong(
      await xrpcPost('com.atproto.server.createAccount', {
        handle,
        email: `${'e'.repeat(300)}@example.com`,
        password: 'correct horse battery',
      }),
      'email',
    )
    expectTooLong(
      await xrpcPost('com.atproto.server.createAccount', {
        handle,
        email: 'bounds@example.com',
        password: 'p'.repeat(1000),
      }),
      'password',
    )
    const account = await createTestAccount('bounds')
    expectTooLong(
      await xrpcPost(
        'com.atproto.server.revokeAppPassword',
        { name: 'n'.repeat(10_000) },
        account.accessJwt,
      ),
      'name',
    )
  })
})
