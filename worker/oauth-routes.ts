/**
 * The OAuth authorization server's routes (src/oauth/): discovery, PAR, token, revoke, the
 * authorization pages and the account page. CORS (app-wide) covers the metadata, PAR, token
 * and revoke endpoints, which browser apps call.
 */
import type { Hono } from 'hono'
import { getConfig } from '../src/config.ts'
import { getDb } from '../src/db/index.ts'
import {
  handleAccountPage,
  handleAccountRevoke,
  handleAccountSignIn,
  handleAccountSignOut,
} from '../src/oauth/account-page.ts'
import {
  handleAuthorizeGet,
  handleConsent,
  handleSelectAccount,
  handleSignIn,
} from '../src/oauth/authorize.ts'
import {
  authorizationServerMetadata,
  OAUTH_PATHS,
  protectedResourceMetadata,
} from '../src/oauth/metadata.ts'
import { STYLESHEET_PATH, stylesheet } from '../src/oauth/pages/html.ts'
import { handlePar } from '../src/oauth/par.ts'
import { handleRevoke } from '../src/oauth/revoke.ts'
import { handleToken } from '../src/oauth/token.ts'
import type { AppEnv } from './app.ts'

export function addOAuthRoutes(app: Hono<AppEnv>): void {
  const deps = (env: Env) => ({ db: getDb(env.DB), config: getConfig(env), env })
  app.get('/.well-known/oauth-protected-resource', (c) =>
    c.json(protectedResourceMetadata(getConfig(c.env))),
  )
  app.get('/.well-known/oauth-authorization-server', (c) =>
    c.json(authorizationServerMetadata(getConfig(c.env))),
  )
  app.post(OAUTH_PATHS.par, (c) => handlePar(c.req.raw, deps(c.env)))
  app.post(OAUTH_PATHS.token, (c) => handleToken(c.req.raw, deps(c.env)))
  app.post(OAUTH_PATHS.revoke, (c) => handleRevoke(c.req.raw, deps(c.env)))
  app.get(OAUTH_PATHS.authorize, (c) => handleAuthorizeGet(c.req.raw, deps(c.env)))
  app.post(`${OAUTH_PATHS.authorize}/sign-in`, (c) => handleSignIn(c.req.raw, deps(c.env)))
  app.post(`${OAUTH_PATHS.authorize}/select`, (c) => handleSelectAccount(c.req.raw, deps(c.env)))
  app.post(`${OAUTH_PATHS.authorize}/consent`, (c) => handleConsent(c.req.raw, deps(c.env)))
  app.get(STYLESHEET_PATH, () => stylesheet())
  app.get('/account', (c) => handleAccountPage(c.req.raw, deps(c.env)))
  app.post('/account/sign-in', (c) => handleAccountSignIn(c.req.raw, deps(c.env)))
  app.post('/account/revoke', (c) => handleAccountRevoke(c.req.raw, deps(c.env)))
  app.post('/account/sign-out', (c) => handleAccountSignOut(c.req.raw, deps(c.env)))
}
