/**
 * `GET /.well-known/did.json`: this PDS's own did:web document, naming its service endpoint,
 * so that service-auth tokens addressed to `did:web:<hostname>` can be checked by others.
 */
import type { Config } from '../config.ts'

export function serviceDidDocument(config: Config): Record<string, unknown> | null {
  if (config.serviceDid !== `did:web:${config.hostname}`) return null
  return {
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: config.serviceDid,
    service: [
      {
        id: '#atproto_pds',
        type: 'AtprotoPersonalDataServer',
        serviceEndpoint: config.publicUrl,
      },
    ],
  }
}
