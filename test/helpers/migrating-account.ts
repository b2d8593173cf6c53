/**
 * An account arriving from another PDS, for tests and benchmarks in Node that drive a running
 * server: a did:plc made directly in the PLC directory (as the old PDS would have), whose key
 * is ours to use, then createAccount here with a service-auth token from that key, which
 * leaves the account deactivated (ready for importRepo).
 */
import { createServiceAuthToken } from '../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import {
  createGenesisOperation,
  didForGenesisOperation,
  PlcClient,
  signPlcOperation,
} from '../../src/identity/index.ts'

export type MigratingAccount = {
  did: string
  handle: string
  password: string
  /** The DID's rotation key and its signing key at the old PDS. */
  key: Secp256k1Keypair
  accessJwt: string
}

export async function createMigratingAccount(
  pdsUrl: string,
  plcUrl: string,
  prefix = 'moved',
): Promise<MigratingAccount> {
  const key = await Secp256k1Keypair.create()
  const suffix = crypto.randomUUID().replace(/-/g, '').slice(0, 8)
  const op = await signPlcOperation(
    createGenesisOperation({
      signingKeyDid: key.did(),
      handle: `old${suffix}.test`,
      pdsEndpoint: 'https://old-pds.example.com',
      rotationKeys: [key.did()],
    }),
    key,
  )
  const did = didForGenesisOperation(op)
  await new PlcClient(plcUrl).submitOperation(did, op)
  const server = await fetch(`${pdsUrl}/xrpc/com.atproto.server.describeServer`)
  const { did: serviceDid } = (await server.json()) as { did: string }
  const token = await createServiceAuthToken({
    iss: did,
    aud: serviceDid,
    lxm: 'com.atproto.server.createAccount',
    keypair: key,
  })
  const handle = `${prefix.slice(0, 10)}${suffix}.test`
  const password = 'correct horse battery'
  const res = await fetch(`${pdsUrl}/xrpc/com.atproto.server.createAccount`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ did, handle, email: `${handle}@example.com`, password }),
  })
  if (!res.ok) throw new Error(`createAccount: ${res.status} ${await res.text()}`)
  const { accessJwt } = (await res.json()) as { accessJwt: string }
  return { did, handle, password, key, accessJwt }
}
