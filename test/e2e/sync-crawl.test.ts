/**
 * requestCrawl end to end: a PDS configured with a relay on loopback (a plain HTTP listener
 * here) asks it to crawl on the first event after it starts.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AtpAgent } from '@atproto/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, startDevServer } from './dev-server.ts'

type Call = { method: string; url: string; body: unknown }

const calls: Call[] = []
const relay = createServer((req: IncomingMessage, res) => {
  let body = ''
  req.on('data', (chunk) => {
    body += chunk
  })
  req.on('end', () => {
    calls.push({
      method: req.method ?? '',
      url: req.url ?? '',
      body: body ? JSON.parse(body) : null,
    })
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
let server: DevServer

beforeAll(async () => {
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  const port = (relay.address() as AddressInfo).port
  server = await startDevServer({ env: { PDS_CRAWLERS: `http://127.0.0.1:${port}` } })
})

afterAll(async () => {
  await server?.stop()
  server?.removeState()
  await new Promise((resolve) => relay.close(resolve))
})

describe('requestCrawl', () => {
  it('tells the configured relay about us on the first event', async () => {
    expect(calls).toEqual([])
    const agent = new AtpAgent({ service: server.pdsUrl })
    const handle = `crawl${Math.random().toString(36).slice(2, 10)}.test`
    await agent.createAccount({ handle, email: `${handle}@example.com`, password: 'crawl pass' })
    const deadline = Date.now() + 15_000
    while (calls.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(calls).toEqual([
      {
        method: 'POST',
        url: '/xrpc/com.atproto.sync.requestCrawl',
        body: { hostname: 'localhost' },
      },
    ])
    // More events within 20 minutes do not ask again.
    await agent.post({ text: 'another event', createdAt: new Date().toISOString() })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(calls).toHaveLength(1)
  })
})
