/**
 * A Worker deployed without its required settings refuses every request with one clear JSON
 * error naming them, logged once, instead of running as a development server.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../../worker/app.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

/** The pool's bindings without dev mode and without a hostname: a forgotten production setup. */
function unconfiguredEnv(): Env {
  const copy = { ...env } as Record<string, unknown>
  delete copy.PDS_DEV_MODE
  delete copy.PDS_HOSTNAME
  return copy as unknown as Env
}

describe('a Worker without its required settings', () => {
  it('answers every request with a 503 JSON error naming them, and logs it once', async () => {
    const logged: unknown[][] = []
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args))
    const app = createApp()
    const badEnv = unconfiguredEnv()
    for (const path of [
      '/xrpc/_health',
      '/xrpc/com.atproto.server.describeServer',
      '/xrpc/com.atproto.server.createAccount',
      '/.well-known/did.json',
    ]) {
      const ctx = createExecutionContext()
      const res = await app.fetch(new Request(`http://pds.example.com${path}`), badEnv, ctx)
      await waitOnExecutionContext(ctx)
      expect(res.status, path).toBe(503)
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/)
      const body = (await res.json()) as { error: string; message: string }
      expect(body.error).toBe('NotConfigured')
      expect(body.message).toContain('PDS_HOSTNAME')
      expect(body.message).not.toMatch(/\bat \w+ \(/)
    }
    expect(logged).toHaveLength(1)
    expect(String(logged[0]?.[0])).toContain('PDS_HOSTNAME')
  })
})
