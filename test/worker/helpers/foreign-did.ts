/** A did:plc hosted elsewhere, made directly in the test PLC directory as another PDS would. */
import { inject } from 'vitest'
import { Secp256k1Keypair } from '../../../src/crypto/index.ts'
import {
  createGenesisOperation,
  didForGenesisOperation,
  PlcClient,
  signPlcOperation,
} from '../../../src/identity/index.ts'
import { uniqueHandle } from './xrpc.ts'

export const OLD_PDS = 'https://old-pds.example.com'

/** Its PDS is another host; `key`, its rotation and signing key, plays that host in tests. */
export async function foreignDid(): Promise<{ did: string; key: Secp256k1Keypair }> {
  const key = await Secp256k1Keypair.create()
  const op = await signPlcOperation(
    createGenesisOperation({
      signingKeyDid: key.did(),
      handle: uniqueHandle('elsewhere'),
      pdsEndpoint: OLD_PDS,
      rotationKeys: [key.did()],
    }),
    key,
  )
  const did = didForGenesisOperation(op)
  await new PlcClient(inject('plcUrl')).submitOperation(did, op)
  return { did, key }
}
