/**
 * The Hono app: every HTTP route of the PDS. XRPC methods go through one dispatcher;
 * the well-known and housekeeping routes live here.
 */
import { Hono } from 'hono'
import { createAdminApp } from '../src/admin/app.ts'
import { configProblem, getConfig } from '../src/config.ts'
import { getDb } from '../src/db/index.ts'
import { openRequestSessions, withBookmark } from '../src/db/session.ts'
import { devMailboxEnabled, serveDevMailbox } from '../src/mail/dev-mailbox-page.ts'
import { withDpopNonce } from '../src/oauth/dpop-nonce.ts'
import { serveSubscribeRepos } from '../src/sync/subscribe-repos.ts'
import { VERSION } from '../src/version.ts'
import { serveAtprotoDid } from '../src/well-known/atproto-did.ts'
import { serviceDidDocument } from '../src/well-known/did-json.ts'
import { dispatchXrpc } from '../src/xrpc/dispatch.ts'
import { toErrorResponse, toXrpcError, XrpcError } from '../src/xrpc/errors.ts'
import { cors } from './cors.ts'
import { dispatchDeps } from './dispatch-deps.ts'
import { addOAuthRoutes } from './oauth-routes.ts'

/** Cloudflare's own URL limit (16 KB). */
const MAX_URL_LENGTH = 16 * 1024

export type AppEnv = { Bindings: Env }

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.use('*', cors)

  // One middleware for both checks: each Hono middleware costs a step on every request.
  app.use('*', async (c, next) => {
    // Nothing is served until the deployment is configured (src/config.ts says what is missing).
    const problem = configProblem(c.env)
    if (problem) return toErrorResponse(new XrpcError(503, 'NotConfigured', problem.message))
    // Cloudflare's edge refuses URLs past 16 KB with a page of its own (and workerd past 64 KB
    // with plain text): below those, a JSON XRPC error says the same thing.
    if (c.req.url.length > MAX_URL_LENGTH) {
      return toErrorResponse(
        new XrpcError(414, 'URITooLong', `The URL is longer than ${MAX_URL_LENGTH} characters`),
      )
    }
    await next()
  })

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

  addOAuthRoutes(app)

  // The operator's web page (server-rendered, its own CSP and session: src/admin/app.ts).
  app.route('/admin', createAdminApp())

  // Local development only (PDS_MAILER=dev, which needs PDS_DEV_MODE): the mail "sent".
  app.get('/dev/mailbox/*', (c) => devMailbox(c.req.raw, c.env))
  app.get('/dev/mailbox', (c) => devMailbox(c.req.raw, c.env))

  // The firehose is a WebSocket subscription, not a dispatcher method.
  app.all('/xrpc/com.atproto.sync.subscribeRepos', (c) => serveSubscribeRepos(c.req.raw, c.env))

  app.all('/xrpc/:nsid', async (c) => {
    const sessions = openRequestSessions(c.env.DB, c.req.raw)
    const response = await dispatchXrpc(
      c.req.param('nsid'),
      c.req.raw,
      dispatchDeps(
        c.env,
        getConfig(c.env),
        (promise) => c.executionCtx.waitUntil(promise),
        sessions,
      ),
    )
    return withDpopNonce(c.req.raw, getConfig(c.env), withBookmark(response, sessions))
  })

  const devMailbox = (request: Request, env: Env) =>
    devMailboxEnabled(getConfig(env)) ? serveDevMailbox(request, getDb(env.DB)) : notFound(request)
  app.notFound((c) => notFound(c.req.raw))
  app.onError((err) => {
    if (toXrpcError(err).status === 500) {
      console.error('request failed', err)
    }
    return toErrorResponse(err)
  })
  return app
}

function notFound(request: Request): Response {
  const path = new URL(request.url).pathname
  return Response.json({ error: 'NotFound', message: `Not found: ${path}` }, { status: 404 })
}
