/**
 * Access tokens outlive their account's state: a token of an account taken down or deleted
 * after it was issued must stop working where the account is consulted. Writes are refused by
 * the account's Durable Object (it knows its status); the methods that read the account row
 * (getServiceAuth, uploadBlob, updateHandle, ...) refuse through requireCallerAccount.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createTestAccount, uniqueHandle, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

function upload(token: string) {
  return SELF.fetch('http://localhost:2583/xrpc/com.atproto.repo.uploadBlob', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array([1, 2, 3]),
  })
}

describe('tokens of an account taken down or deleted after they were issued', () => {
  it('a taken-down account: AccountTakedown', async () => {
    const account = await createTestAccount('staletd')
    await env.DB.prepare("UPDATE account SET status = 'takendown' WHERE did = ?")
      .bind(account.did)
      .run()
    const auth = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:example.com' },
      account.accessJwt,
    )
    expect(auth.status).toBe(401)
    expect(auth.body.error).toBe('AccountTakedown')
    const blob = await upload(account.accessJwt)
    expect(blob.status).toBe(401)
    expect(await blob.json()).toMatchObject({ error: 'AccountTakedown' })
    const handle = await xrpcPost(
      'com.atproto.identity.updateHandle',
      { handle: uniqueHandle('staletd') },
      account.accessJwt,
    )
    expect(handle.status).toBe(401)
    expect(handle.body.error).toBe('AccountTakedown')
  })

  it('a deleted account: refused, nothing stored', async () => {
    const account = await createTestAccount('staledel')
    await env.DB.prepare('DELETE FROM account WHERE did = ?').bind(account.did).run()
    const auth = await xrpcGet(
      'com.atproto.server.getServiceAuth',
      { aud: 'did:web:example.com' },
      account.accessJwt,
    )
    expect(auth.status).toBe(400)
    expect(auth.body.error).toBe('AccountNotFound')
    const blob = await upload(account.accessJwt)
    expect(blob.status).toBe(400)
    expect(await blob.json()).toMatchObject({ error: 'AccountNotFound' })
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM blob WHERE did = ?')
      .bind(account.did)
      .first<{ n: number }>()
    expect(rows?.n).toBe(0)
  })
})
