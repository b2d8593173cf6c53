/**
 * Pure rules of the authorization server: stateless DPoP nonces (neighbours accepted, nothing
 * older), loopback client ids, and which redirect URIs count as registered.
 */
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/config.ts'
import { isRegisteredRedirect, loopbackClient } from '../../src/oauth/client-metadata.ts'
import { currentDpopNonce, isValidDpopNonce } from '../../src/oauth/dpop-nonce.ts'

const config = readConfig({ PDS_DEV_MODE: 'true', PDS_JWT_SECRET: 'unit-test-secret' })
const MINUTE = 60_000

describe('DPoP nonces', () => {
  it('accept the current nonce and its neighbours, and nothing further', () => {
    const now = Date.UTC(2030, 0, 1)
    const nonce = currentDpopNonce(config, now)
    expect(isValidDpopNonce(config, nonce, now)).toBe(true)
    expect(isValidDpopNonce(config, nonce, now + 3 * MINUTE)).toBe(true)
    expect(isValidDpopNonce(config, nonce, now - 3 * MINUTE)).toBe(true)
    expect(isValidDpopNonce(config, nonce, now + 7 * MINUTE)).toBe(false)
    expect(isValidDpopNonce(config, 'made-up', now)).toBe(false)
    expect(isValidDpopNonce(config, undefined, now)).toBe(false)
  })

  it('rotate at least every five minutes and depend on the secret', () => {
    const now = Date.UTC(2030, 0, 1)
    expect(currentDpopNonce(config, now + 5 * MINUTE)).not.toBe(currentDpopNonce(config, now))
    const other = readConfig({ PDS_DEV_MODE: 'true', PDS_JWT_SECRET: 'another-secret' })
    expect(currentDpopNonce(other, now)).not.toBe(currentDpopNonce(config, now))
  })
})

describe('loopback clients', () => {
  it('take their redirect URIs and scope from the client_id', () => {
    const id = `http://localhost?${new URLSearchParams([
      ['redirect_uri', 'http://127.0.0.1/cb'],
      ['scope', 'atproto transition:generic'],
    ])}`
    const client = loopbackClient(id)
    expect(client.metadata).toMatchObject({
      redirect_uris: ['http://127.0.0.1/cb'],
      scope: 'atproto transition:generic',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    })
    // RFC 8252: any port on the loopback address, the same path.
    expect(isRegisteredRedirect(client, 'http://127.0.0.1:51234/cb')).toBe(true)
    expect(isRegisteredRedirect(client, 'http://127.0.0.1:51234/other')).toBe(false)
    expect(isRegisteredRedirect(client, 'http://localhost:51234/cb')).toBe(false)
  })

  it('default to both loopback addresses and the atproto scope', () => {
    const client = loopbackClient('http://localhost')
    expect(client.metadata.redirect_uris).toEqual(['http://127.0.0.1/', 'http://[::1]/'])
    expect(client.metadata.scope).toBe('atproto')
  })

  it('refuse a port, a path or a redirect off loopback', () => {
    expect(() => loopbackClient('http://localhost:8080')).toThrow()
    expect(() => loopbackClient('http://localhost/app')).toThrow()
    expect(() =>
      loopbackClient(
        `http://localhost?redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      ),
    ).toThrow()
  })
})
