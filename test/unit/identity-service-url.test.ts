import { describe, expect, it } from 'vitest'
import { checkServiceUrl, isServiceUrlAllowed, ServiceUrlError } from '../../src/identity/index.ts'

const production = { devMode: false }
const development = { devMode: true }

describe('checkServiceUrl', () => {
  it('takes https to a public hostname on the default port', () => {
    for (const url of [
      'https://api.bsky.app',
      'https://pds.example.com/',
      'https://a.b.example.co.uk:443',
    ]) {
      expect(isServiceUrlAllowed(url, production), url).toBe(true)
    }
  })

  it.each([
    ['plain http', 'http://api.bsky.app'],
    ['another scheme', 'ftp://api.bsky.app'],
    ['credentials', 'https://user:pw@api.bsky.app'],
    ['an IPv4 literal', 'https://93.184.216.34'],
    ['loopback', 'https://127.0.0.1'],
    ['a private address', 'https://10.1.2.3'],
    ['link-local (cloud metadata)', 'https://169.254.169.254'],
    ['IPv4 as one number', 'https://2130706433'],
    ['IPv4 in hex', 'https://0x7f000001'],
    ['an IPv6 literal', 'https://[::1]'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]'],
    ['localhost', 'https://localhost'],
    ['a localhost subdomain', 'https://evil.localhost'],
    ['a single label', 'https://intranet'],
    ['.local', 'https://printer.local'],
    ['.internal', 'https://metadata.google.internal'],
    ['a numeric TLD', 'https://host.123'],
    ['another port', 'https://api.bsky.app:8443'],
    ['not a URL', 'api.bsky.app'],
  ])('refuses %s in production', (_label, url) => {
    expect(() => checkServiceUrl(url, production)).toThrow(ServiceUrlError)
  })

  it('allows loopback over http on any port in development, and nothing else extra', () => {
    for (const url of [
      'http://localhost:2584',
      'http://127.0.0.1:9',
      'http://[::1]:80',
      'https://localhost',
    ]) {
      expect(isServiceUrlAllowed(url, development), url).toBe(true)
    }
    for (const url of ['http://10.0.0.1:2584', 'http://api.bsky.app', 'https://169.254.169.254']) {
      expect(isServiceUrlAllowed(url, development), url).toBe(false)
    }
  })
})
