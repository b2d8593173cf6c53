/** The DID document a PLC operation describes, as the directory will serve it. */
import type { PlcOperation } from './index.ts'

export function didDocumentFromOperation(did: string, op: PlcOperation): Record<string, unknown> {
  const verificationMethod = Object.entries(op.verificationMethods).map(([id, key]) => ({
    id: `${did}#${id}`,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: key.replace(/^did:key:/, ''),
  }))
  const service = Object.entries(op.services).map(([id, s]) => ({
    id: `#${id}`,
    type: s.type,
    serviceEndpoint: s.endpoint,
  }))
  return {
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1',
      'https://w3id.org/security/suites/secp256k1-2019/v1',
    ],
    id: did,
    alsoKnownAs: op.alsoKnownAs,
    verificationMethod,
    service,
  }
}
