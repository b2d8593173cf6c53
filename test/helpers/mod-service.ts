/**
 * A stand-in moderation service identity for tests: a did:plc registered on the test PLC
 * directory whose `#atproto` and `#atproto_label` keys are one secp256k1 key the tests hold,
 * so that they can sign the service-auth JWTs a real moderation service sends.
 */
import { bytesToHex } from '@noble/hashes/utils.js'
import { generatePrivateKey } from '../../src/crypto/keypair.ts'
import { Secp256k1Keypair } from '../../src/crypto/secp256k1-keypair.ts'
import { PlcClient } from '../../src/identity/plc-client.ts'
import {
  createGenesisOperation,
  didForGenesisOperation,
  signPlcOperation,
} from '../../src/identity/plc-operation.ts'

export interface ModServiceIdentity {
  did: string
  /** Hex secp256k1 private key of both verification methods. */
  privateKeyHex: string
}

export async function registerModService(plcUrl: string): Promise<ModServiceIdentity> {
  const privateKeyHex = bytesToHex(generatePrivateKey('ES256K'))
  const key = await Secp256k1Keypair.import(privateKeyHex)
  const base = createGenesisOperation({
    rotationKeys: [key.did()],
    signingKeyDid: key.did(),
    handle: 'mod.test',
    pdsEndpoint: 'https://mod.example',
  })
  const unsigned = {
    ...base,
    verificationMethods: { atproto: key.did(), atproto_label: key.did() },
    services: {
      atproto_labeler: { type: 'AtprotoLabeler', endpoint: 'https://mod.example' },
    },
  }
  const op = await signPlcOperation(unsigned, key)
  const did = didForGenesisOperation(op)
  await new PlcClient(plcUrl).submitOperation(did, op)
  return { did, privateKeyHex }
}
