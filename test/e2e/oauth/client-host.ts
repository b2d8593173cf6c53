/**
 * A stand-in web host on loopback serving client metadata documents: a confidential client
 * (private_key_jwt, its keys inline or at `jwks_uri`), and the broken ones the server must
 * refuse (a redirect, a non-JSON answer). The PDS fetches loopback only in development mode.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ClientSigningKey } from './raw-client.ts'

export interface ClientHost {
  origin: string
  /** client_id of a confidential client whose keys are inline (`jwks`). */
  confidentialId: string
  /** client_id of a confidential client whose keys are at `jwks_uri`. */
  jwksUriId: string
  /** client_id answering with a redirect to the confidential client's document. */
  redirectingId: string
  /** client_id answering 200 with an HTML page. */
  htmlId: string
  redirectUri: string
  close(): Promise<void>
}

export async function startClientHost(key: ClientSigningKey): Promise<ClientHost> {
  let origin = ''
  const metadata = (clientId: string, keys: 'inline' | 'uri') => ({
    client_id: clientId,
    client_name: 'Confidential test app',
    client_uri: origin,
    redirect_uris: [`${origin}/callback`],
    scope: 'atproto transition:generic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    dpop_bound_access_tokens: true,
    ...(keys === 'inline' ? { jwks: { keys: [key.publicJwk] } } : { jwks_uri: `${origin}/jwks` }),
  })
  const server: Server = createServer((req, res) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    switch (req.url) {
      case '/confidential.json':
        return json(metadata(`${origin}/confidential.json`, 'inline'))
      case '/jwks-uri.json':
        return json(metadata(`${origin}/jwks-uri.json`, 'uri'))
      case '/jwks':
        return json({ keys: [key.publicJwk] })
      case '/redirecting.json':
        res.writeHead(302, { location: '/confidential.json' })
        return res.end()
      case '/html.json':
        res.writeHead(200, { 'content-type': 'text/html' })
        return res.end('<!doctype html><p>not metadata</p>')
      case '/callback':
        res.writeHead(200, { 'content-type': 'text/plain' })
        return res.end('signed in')
      default:
        res.writeHead(404)
        return res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    confidentialId: `${origin}/confidential.json`,
    jwksUriId: `${origin}/jwks-uri.json`,
    redirectingId: `${origin}/redirecting.json`,
    htmlId: `${origin}/html.json`,
    redirectUri: `${origin}/callback`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
