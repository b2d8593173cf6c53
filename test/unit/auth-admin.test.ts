import { describe, expect, it } from 'vitest'
import { checkAdminBasicAuth, parseBasicAuth } from '../../src/auth/index.ts'

const PASSWORD = 'test-admin-password'

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
}

describe('admin basic auth', () => {
  it('accepts admin with the configured password', () => {
    expect(checkAdminBasicAuth(basic(`admin:${PASSWORD}`), PASSWORD)).toBe(true)
    expect(
      checkAdminBasicAuth(basic(`admin:${PASSWORD}`).replace('Basic', 'basic'), PASSWORD),
    ).toBe(true)
    expect(checkAdminBasicAuth(basic('admin:pa:ss wörd'), 'pa:ss wörd')).toBe(true)
  })

  it('refuses everything else', () => {
    const cases = [
      undefined,
      null,
      '',
      basic('admin:wrong'),
      basic(`admin:${PASSWORD}x`),
      basic(`admin:${PASSWORD.slice(0, -1)}`),
      basic(`root:${PASSWORD}`),
      basic(`Admin:${PASSWORD}`),
      basic(PASSWORD),
      basic('admin:'),
      `Bearer ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`,
      'Basic !!!',
      'Basic',
      `Basic ${Buffer.from([0x61, 0x64, 0x6d, 0x69, 0x6e, 0x3a, 0xff]).toString('base64')}`,
    ]
    for (const header of cases) expect(checkAdminBasicAuth(header, PASSWORD)).toBe(false)
  })

  it('matches nothing when no admin password is configured', () => {
    expect(checkAdminBasicAuth(basic('admin:'), '')).toBe(false)
    expect(checkAdminBasicAuth(basic('admin:'), null)).toBe(false)
  })

  it('parses the credentials, splitting at the first colon', () => {
    expect(parseBasicAuth(basic('admin:a:b'))).toEqual({ username: 'admin', password: 'a:b' })
    expect(parseBasicAuth(basic('nocolon'))).toBeNull()
  })
})
