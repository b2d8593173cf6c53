/**
 * The XRPC dispatcher with stand-in handlers for real Lexicon methods: params, JSON input
 * and output are validated against the Lexicons, and every failure is an XRPC error.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { authorizeCall } from '../../src/api/authorize.ts'
import { buildRegistry } from '../../src/api/index.ts'
import { readConfig } from '../../src/config.ts'
import { getDb } from '../../src/db/index.ts'
import { d1RateLimitStore } from '../../src/rate-limit.ts'
import { RECORD_WRITE_JSON_BODY_BYTES } from '../../src/xrpc/body.ts'
import { createRegistry, dispatchXrpc } from '../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../src/xrpc/errors.ts'
import { getXrpcSchemas } from '../../src/xrpc/lexicon-schemas.ts'
import { defineMethod, publicAccess } from '../../src/xrpc/method.ts'
import { noPermission } from '../../src/xrpc/permission.ts'
import { noRateLimits } from '../../src/xrpc/rate-limits.ts'

const echoParams = defineMethod({
  nsid: 'com.atproto.repo.listRecords',
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ params }) {
    // Deliberately not a valid listRecords output when asked, to exercise output validation.
    if ((params as { collection: string }).collection === 'com.example.bad.output') {
      return { body: { records: 'not-an-array' } }
    }
    return { body: { records: [], cursor: JSON.stringify(params) } }
  },
})

const echoInput = defineMethod({
  nsid: 'com.atproto.server.createSession',
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ input }) {
    const { identifier } = input as { identifier: string }
    return {
      body: { accessJwt: 'a', refreshJwt: 'r', handle: 'alice.test', did: `did:plc:${identifier}` },
    }
  },
})

const echoRecord = defineMethod({
  nsid: 'com.atproto.repo.createRecord',
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  maxJsonBodyBytes: RECORD_WRITE_JSON_BODY_BYTES,
  async handler({ input }) {
    const { record } = input as { record: { text: string } }
    const cid = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
    return { body: { uri: `at://did:plc:abc/com.example.big/${record.text.length}`, cid } }
  },
})

const registry = createRegistry([echoParams, echoInput, echoRecord])

async function call(path: string, init?: RequestInit): Promise<Response> {
  const request = new Request(`http://localhost:2583/xrpc/${path}`, init)
  const nsid = new URL(request.url).pathname.slice('/xrpc/'.length)
  try {
    return await dispatchXrpc(nsid, request, {
      registry,
      schemas: getXrpcSchemas(),
      env,
      config: readConfig({ PDS_DEV_MODE: 'true', PDS_VALIDATE_RESPONSES: 'true' }),
      services: { db: getDb(env.DB) },
      rateLimits: d1RateLimitStore(getDb(env.DB)),
      authorize: authorizeCall,
      waitUntil: () => {},
    })
  } catch (err) {
    return toErrorResponse(err)
  }
}

describe('params', () => {
  it('coerces query params by the Lexicon and applies defaults', async () => {
    const res = await call(
      'com.atproto.repo.listRecords?repo=alice.test&collection=app.bsky.feed.post&limit=7&reverse=true&junk=1',
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as { cursor: string }
    expect(JSON.parse(body.cursor)).toEqual({
      repo: 'alice.test',
      collection: 'app.bsky.feed.post',
      limit: 7,
      reverse: true,
    })
  })

  it.each([
    [
      'a missing required param',
      'com.atproto.repo.listRecords?collection=app.bsky.feed.post',
      'repo',
    ],
    [
      'an out-of-range integer',
      'com.atproto.repo.listRecords?repo=a.test&collection=a.b.c&limit=1000',
      'limit',
    ],
    [
      'a non-integer',
      'com.atproto.repo.listRecords?repo=a.test&collection=a.b.c&limit=ten',
      'limit',
    ],
    [
      'a bad format',
      'com.atproto.repo.listRecords?repo=a.test&collection=not%20nsid',
      'collection',
    ],
  ])('rejects %s with InvalidRequest naming it', async (_label, path, field) => {
    const res = await call(path)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('InvalidRequest')
    expect(body.message).toContain(field)
  })
})

describe('untrusted param names', () => {
  it('treats __proto__ and constructor as unknown params, not as the params object', async () => {
    for (const query of [
      '__proto__=a&__proto__=b',
      '__proto__=a',
      'constructor=a&constructor=b',
      '__proto__[limit]=1000',
    ]) {
      const res = await call(
        `com.atproto.repo.listRecords?repo=alice.test&collection=app.bsky.feed.post&${query}`,
      )
      expect(res.status, query).toBe(200)
      const { cursor } = (await res.json()) as { cursor: string }
      expect(JSON.parse(cursor), query).toEqual({
        repo: 'alice.test',
        collection: 'app.bsky.feed.post',
        limit: 50,
      })
    }
  })
})

describe('JSON input', () => {
  const post = (body: string, contentType = 'application/json') =>
    call('com.atproto.server.createSession', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    })

  it('passes a valid body to the handler', async () => {
    const res = await post(JSON.stringify({ identifier: 'abc', password: 'pw' }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ did: 'did:plc:abc' })
  })

  it('rejects a body missing a required field, naming it', async () => {
    const res = await post(JSON.stringify({ identifier: 'abc' }))
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'InvalidRequest',
      message: expect.stringContaining('password'),
    })
  })

  it.each([
    ['malformed JSON', '{"identifier":', 'application/json'],
    ['an empty body', '', 'application/json'],
    ['a wrong content type', 'identifier=abc', 'application/x-www-form-urlencoded'],
    [
      'a malformed $link',
      '{"identifier":"a","password":"b","x":{"$link":"nope"}}',
      'application/json',
    ],
  ])('rejects %s with InvalidRequest', async (_label, body, contentType) => {
    const res = await post(body, contentType)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'InvalidRequest' })
  })

  it('rejects a JSON body without a Content-Type', async () => {
    // Bytes, since a string body would be labelled text/plain by the Request.
    const res = await call('com.atproto.server.createSession', {
      method: 'POST',
      body: new TextEncoder().encode(JSON.stringify({ identifier: 'abc', password: 'pw' })),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'InvalidRequest',
      message: expect.stringContaining('Content-Type'),
    })
  })

  it('caps JSON bodies at 150 KiB like the reference PDS, streamed or declared', async () => {
    const body = JSON.stringify({ identifier: 'x'.repeat(160 * 1024), password: 'p' })
    const declared = await post(body)
    expect(declared.status).toBe(413)
    expect(await declared.json()).toMatchObject({ error: 'PayloadTooLarge' })
    const streamed = await call('com.atproto.server.createSession', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(await streamed.json()).toMatchObject({ error: 'PayloadTooLarge' })
  })

  it('gives record writes room for a 1 MB record, and no more than a few MiB', async () => {
    const write = (size: number) =>
      call('com.atproto.repo.createRecord', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          repo: 'did:plc:abc',
          collection: 'com.example.big',
          record: { text: 'x'.repeat(size) },
        }),
      })
    const fits = await write(999_000)
    expect(fits.status).toBe(200)
    expect(await fits.json()).toMatchObject({ uri: expect.stringMatching(/\/999000$/) })
    const tooBig = await write(5 * 1024 * 1024)
    expect(tooBig.status).toBe(413)
    expect(await tooBig.json()).toMatchObject({ error: 'PayloadTooLarge' })
  })

  it('the record writes of our registry declare that room; other methods keep the default', () => {
    const registry = buildRegistry()
    for (const nsid of [
      'com.atproto.repo.createRecord',
      'com.atproto.repo.putRecord',
      'com.atproto.repo.applyWrites',
    ]) {
      expect(registry.get(nsid)?.maxJsonBodyBytes).toBe(RECORD_WRITE_JSON_BODY_BYTES)
    }
    expect(registry.get('com.atproto.server.createSession')?.maxJsonBodyBytes).toBeUndefined()
  })

  it('rejects a body larger than the limit with PayloadTooLarge', async () => {
    const res = await call('com.atproto.server.createSession', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'x'.repeat(11 * 1024 * 1024), password: 'p' }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'PayloadTooLarge' })
  })
})

describe('output', () => {
  it('refuses to send a response that breaks its Lexicon', async () => {
    const res = await call(
      'com.atproto.repo.listRecords?repo=a.test&collection=com.example.bad.output',
    )
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({
      error: 'InternalServerError',
      message: expect.stringContaining('records'),
    })
  })
})
