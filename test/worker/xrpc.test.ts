import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

const BASE = 'http://localhost:2583'

async function xrpc(path: string, init?: RequestInit): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init)
}

describe('HTTP surface', () => {
  it('answers the health check', async () => {
    const res = await xrpc('/xrpc/_health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ version: expect.any(String) })
  })

  it('serves robots.txt', async () => {
    const res = await xrpc('/robots.txt')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('User-agent: *')
  })

  it('describes the server', async () => {
    const res = await xrpc('/xrpc/com.atproto.server.describeServer')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual({
      did: 'did:web:localhost',
      availableUserDomains: ['.test'],
      inviteCodeRequired: false,
      phoneVerificationRequired: false,
      blobUploadLimit: 100 * 1024 * 1024,
      links: {},
      contact: {},
      // The pool mails to the development mailbox.
      'dev.edgepds.email': { canSend: true },
    })
  })

  it('answers CORS preflights for browser clients', async () => {
    const res = await xrpc('/xrpc/com.atproto.server.describeServer', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    )
    const get = await xrpc('/xrpc/_health', { headers: { Origin: 'https://app.example' } })
    expect(get.headers.get('access-control-allow-origin')).toBe('*')
    const failed = await xrpc('/xrpc/com.example.nothing.here', {
      headers: { Origin: 'https://app.example' },
    })
    expect(failed.status).toBe(501)
    expect(failed.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('XRPC errors', () => {
  it('answers an unknown method with MethodNotImplemented (501)', async () => {
    const res = await xrpc('/xrpc/com.example.nothing.here')
    expect(res.status).toBe(501)
    expect(await res.json()).toEqual({
      error: 'MethodNotImplemented',
      message: expect.stringContaining('com.example.nothing.here'),
    })
  })

  it('rejects a malformed method name', async () => {
    const res = await xrpc('/xrpc/not-an-nsid')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'InvalidRequest' })
  })

  it('rejects the wrong HTTP verb for a query', async () => {
    const res = await xrpc('/xrpc/com.atproto.server.describeServer', { method: 'POST' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: 'InvalidRequest',
      message: expect.stringContaining('expected GET'),
    })
  })

  it('answers unknown paths with a JSON 404', async () => {
    const res = await xrpc('/nothing')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: 'NotFound' })
  })
})
