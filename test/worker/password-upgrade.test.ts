/**
 * A login replaces a password hash made with other scrypt parameters than the configured ones
 * (src/accounts/password-upgrade.ts): an account of the p=5 days keeps working and ends up on
 * today's setting. The pool hashes with N=2^10, r=8, p=1 (vitest.config.ts).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from '../../src/auth/password.ts'
import { getConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import { signIn } from '../../src/oauth/sign-in.ts'
import { createTestAccount, xrpcPost } from './helpers/xrpc.ts'

async function storedHash(did: string): Promise<string> {
  const row = await env.DB.prepare('SELECT password_hash FROM account WHERE did = ?')
    .bind(did)
    .first<{ password_hash: string }>()
  return row!.password_hash
}

async function setStoredHash(did: string, hash: string): Promise<void> {
  await env.DB.prepare('UPDATE account SET password_hash = ? WHERE did = ?').bind(hash, did).run()
}

const login = (identifier: string, password: string) =>
  xrpcPost('com.atproto.server.createSession', { identifier, password })

describe('password hash upgrade on login', () => {
  it('a new account gets the configured parameters', async () => {
    const alice = await createTestAccount('rehash')
    expect(await storedHash(alice.did)).toMatch(/^scrypt\$ln=10,r=8,p=1\$/)
  })

  it('an older hash verifies, and the login stores one with the configured parameters', async () => {
    const bob = await createTestAccount('rehash')
    // What an older default wrote (more lanes), kept cheap for the pool.
    const old = await hashPassword(bob.password, { N: 2 ** 10, r: 8, p: 3 })
    await setStoredHash(bob.did, old)

    expect((await login(bob.handle, 'not the password')).status).toBe(401)
    expect(await storedHash(bob.did)).toBe(old)

    expect((await login(bob.handle, bob.password)).status).toBe(200)
    const upgraded = await storedHash(bob.did)
    expect(upgraded).toMatch(/^scrypt\$ln=10,r=8,p=1\$/)
    expect(await verifyPassword(bob.password, upgraded)).toBe(true)
    // And the next login reads the new hash and leaves it alone.
    expect((await login(bob.handle, bob.password)).status).toBe(200)
    expect(await storedHash(bob.did)).toBe(upgraded)
  })

  it('the OAuth sign-in page upgrades the hash too', async () => {
    const dave = await createTestAccount('rehash')
    const old = await hashPassword(dave.password, { N: 2 ** 11, r: 8, p: 1 })
    await setStoredHash(dave.did, old)
    const request = new Request('http://localhost:2583/oauth/authorize', { method: 'POST' })
    const deps = { db: getDb(env.DB), config: getConfig(env), env }
    const wrong = await signIn(request, { identifier: dave.handle, password: 'nope' }, deps)
    expect(wrong.ok).toBe(false)
    expect(await storedHash(dave.did)).toBe(old)
    const right = await signIn(request, { identifier: dave.handle, password: dave.password }, deps)
    expect(right.ok).toBe(true)
    expect(await storedHash(dave.did)).toMatch(/^scrypt\$ln=10,r=8,p=1\$/)
  })

  it('an app password login leaves the account hash as it is', async () => {
    const carol = await createTestAccount('rehash')
    const old = await hashPassword(carol.password, { N: 2 ** 10, r: 8, p: 2 })
    await setStoredHash(carol.did, old)
    const app = await xrpcPost<{ password: string }>(
      'com.atproto.server.createAppPassword',
      { name: 'rehash' },
      carol.accessJwt,
    )
    expect((await login(carol.handle, app.body.password)).status).toBe(200)
    expect(await storedHash(carol.did)).toBe(old)
  })
})
