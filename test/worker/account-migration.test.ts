/**
 * createAccount's migration path: an existing did:plc (made directly in the PLC directory, as
 * another PDS would have) moves here with a service-auth token signed by its current key.
 */
import { describe, expect, it } from 'vitest'
import { createServiceAuthToken } from '../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { foreignDid } from './helpers/foreign-did.ts'
import { uniqueHandle, xrpcGet, xrpcPost } from './helpers/xrpc.ts'

function migrate(did: string, token?: string) {
  return xrpcPost<{ did: string; accessJwt: string }>(
    'com.atproto.server.createAccount',
    {
      did,
      handle: uniqueHandle('moved'),
      email: `${crypto.randomUUID()}@example.com`,
      password: 'correct horse battery',
    },
    token,
  )
}

describe('createAccount for an existing DID', () => {
  it('imports it as a deactivated account with a token from its current key', async () => {
    const { did, key } = await foreignDid()
    const token = await createServiceAuthToken({
      iss: did,
      aud: 'did:web:localhost',
      lxm: 'com.atproto.server.createAccount',
      keypair: key,
    })
    const res = await migrate(did, token)
    expect(res.status).toBe(200)
    expect(res.body.did).toBe(did)
    const session = await xrpcGet('com.atproto.server.getSession', {}, res.body.accessJwt)
    expect(session.body).toMatchObject({ did, active: false, status: 'deactivated' })
  })

  it.each([
    ['no token', async () => undefined],
    [
      'a token for another method',
      async (did: string, key: Secp256k1Keypair) =>
        createServiceAuthToken({
          iss: did,
          aud: 'did:web:localhost',
          lxm: 'com.atproto.repo.uploadBlob',
          keypair: key,
        }),
    ],
    [
      'a token for another service',
      async (did: string, key: Secp256k1Keypair) =>
        createServiceAuthToken({
          iss: did,
          aud: 'did:web:other.example',
          lxm: 'com.atproto.server.createAccount',
          keypair: key,
        }),
    ],
    [
      'a token signed by another key',
      async (did: string) =>
        createServiceAuthToken({
          iss: did,
          aud: 'did:web:localhost',
          lxm: 'com.atproto.server.createAccount',
          keypair: await Secp256k1Keypair.create(),
        }),
    ],
  ])('refuses %s with 401 and creates nothing', async (_label, makeToken) => {
    const { did, key } = await foreignDid()
    const res = await migrate(did, await makeToken(did, key))
    expect(res.status).toBe(401)
    const repo = await xrpcGet('com.atproto.sync.getRepoStatus', { did })
    expect(repo.status).toBe(400)
  })
})
