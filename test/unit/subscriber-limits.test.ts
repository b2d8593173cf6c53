import { describe, expect, it } from 'vitest'
import { ipv6Prefix64, subscriberTag } from '../../src/sync/subscriber-limits.ts'

const withIp = (ip?: string) =>
  new Request('http://localhost/', ip === undefined ? {} : { headers: { 'cf-connecting-ip': ip } })

describe('subscriberTag', () => {
  it('keys IPv4 by address, IPv6 by /64, and a request without the header as local', () => {
    expect(subscriberTag(withIp('203.0.113.7'))).toBe('ip:203.0.113.7')
    expect(subscriberTag(withIp('2001:db8:0:1:aaaa::1'))).toBe('ip:2001:db8:0:1')
    expect(subscriberTag(withIp())).toBe('ip:local')
  })
})

describe('ipv6Prefix64', () => {
  it('gives every address of one /64 the same key, whatever its spelling', () => {
    const same = [
      '2001:db8:0:1::1',
      '2001:0db8:0000:0001:ffff:ffff:ffff:ffff',
      '2001:DB8:0:1:1:2:3:4',
      '[2001:db8:0:1::9]',
      '2001:db8:0:1::5%eth0',
    ]
    for (const ip of same) expect(ipv6Prefix64(ip), ip).toBe('2001:db8:0:1')
    expect(ipv6Prefix64('2001:db8:0:2::1')).toBe('2001:db8:0:2')
  })

  it('expands :: in the first half and maps IPv4-mapped addresses to IPv4', () => {
    expect(ipv6Prefix64('2001:db8::1')).toBe('2001:db8:0:0')
    expect(ipv6Prefix64('::1')).toBe('0:0:0:0')
    expect(ipv6Prefix64('fe80::')).toBe('fe80:0:0:0')
    expect(ipv6Prefix64('::ffff:198.51.100.4')).toBe('198.51.100.4')
  })

  it('keeps a malformed address as it is', () => {
    expect(ipv6Prefix64('1::2::3')).toBe('1::2::3')
    expect(ipv6Prefix64('zz:1')).toBe('zz:1')
  })
})
