/**
 * The Hono app: every HTTP route of the PDS. XRPC methods go through one dispatcher;
 * the well-known and housekeeping routes live here.
 */
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { buildRegistry } from '../src/api/index.ts'
import { proxyUnservedMethod } from '../src/api/proxy-fallback.ts'
import { getConfig } from '../src/config.ts'
import { getDb } from '../src/db/index.ts'
import { serveSubscribeRepos } from '../src/sync/subscribe-repos.ts'
import { VERSION } from '../src/version.ts'
import { serveAtprotoDid } from '../src/well-known/atproto-did.ts'
import { serviceDidDocument } from '../src/well-known/did-json.ts'
import { dispatchXrpc } from '../src/xrpc/dispatch.ts'
import { toErrorResponse, toXrpcError } from '../src/xrpc/errors.ts'
import { getXrpcSchemas } from '../src/xrpc/lexicon-schemas.ts'

export type AppEnv = { Bindings: Env }

const registry = buildRegistry()

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: [
        'atproto-repo-rev',
        'atproto-content-labelers',
        'dpop-nonce',
        'www-authenticate',
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'ratelimit-policy',
      ],
      maxAge: 86400,
    }),
  )

  app.get('/', (c) =>
    c.text(
      `This is an AT Protocol Personal Data Server (PDS), version ${VERSION}.\n\n` +
        'Most API routes are under /xrpc/\n',
    ),
  )
  app.get('/robots.txt', (c) => c.text('# Hello Friends!\nUser-agent: *\nAllow: /\n'))
  app.get('/xrpc/_health', (c) => c.json({ version: VERSION }))
  app.get('/.well-known/atproto-did', (c) =>
    serveAtprotoDid(c.req.raw, getDb(c.env.DB), getConfig(c.env)),
  )
  app.get('/.well-known/did.json', (c) => {
    const doc = serviceDidDocument(getConfig(c.env))
    return doc ? c.json(doc) : c.json({ error: 'NotFound', message: 'No did:web document' }, 404)
  })

  // The firehose is a WebSocket subscription, not a dispatcher method.
  app.all('/xrpc/com.atproto.sync.subscribeRepos', (c) => serveSubscribeRepos(c.req.raw, c.env))

  app.all('/xrpc/:nsid', (c) => {
    const config = getConfig(c.env)
    return dispatchXrpc(c.req.param('nsid'), c.req.raw, {
      registry,
      schemas: getXrpcSchemas(),
      env: c.env,
      config,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      fallback: (nsid, request) => proxyUnservedMethod(nsid, request, c.env, config),
    })
  })

  app.notFound((c) => c.json({ error: 'NotFound', message: `Not found: ${c.req.path}` }, 404))
  app.onError((err) => {
    if (toXrpcError(err).status === 500) {
      console.error('request failed', err)
    }
    return toErrorResponse(err)
  })
  return app
}
