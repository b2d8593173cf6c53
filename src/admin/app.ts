/**
 * The admin web page at `/admin`: server-rendered forms, no script. Every response carries a
 * strict CSP (no script, one nonce'd style, `frame-ancestors 'none'`) and `no-store`; sign-in
 * checks the admin password under the same per-address limit as admin Basic auth; every POST
 * needs the session cookie (SameSite=Strict) and the session's CSRF token, and a same-origin
 * `Origin` when the browser sends one. Actions call the same domain functions as the
 * com.atproto.admin.* methods.
 */
import { type Context, Hono } from 'hono'
import { deleteAccountEverywhere } from '../accounts/delete-account.ts'
import { ADMIN_INVITE_OWNER, createInviteCodesFor } from '../accounts/invite-codes.ts'
import { requireAccount, updateAccountModeration } from '../accounts/moderation.ts'
import { checkAdminBasicAuth } from '../auth/admin-auth.ts'
import { hashPassword } from '../auth/password.ts'
import { randomToken } from '../auth/random-token.ts'
import { accountStub } from '../bindings.ts'
import { type Config, getConfig } from '../config.ts'
import { searchAccounts, updateAccountPassword } from '../db/accounts.ts'
import { getBlobUsage } from '../db/blobs.ts'
import { type Db, getDb } from '../db/index.ts'
import { disableInviteCodes, listInviteCodes } from '../db/invites.ts'
import { deleteRefreshTokensOf, setInvitesDisabled } from '../db/moderation.ts'
import { DomainError } from '../errors.ts'
import { type MailStatus, mailStatus } from '../mail/index.ts'
import { d1RateLimitStore, LIMITS } from '../rate-limit.ts'
import { readRelayReports } from '../sync/relay-doctor.ts'
import { RateLimitExceededError } from '../xrpc/errors.ts'
import { enforceRateLimits } from '../xrpc/rate-limits.ts'
import { adminCsp, type Html, html, page } from './html.ts'
import {
  type AccountLine,
  accountsView,
  federationView,
  flash,
  invitesView,
  loginView,
  overviewView,
} from './pages.ts'
import {
  type AdminSession,
  closeAdminSession,
  csrfMatches,
  openAdminSession,
  readAdminSession,
} from './session.ts'
import {
  accountsByStatus,
  firehoseWindow,
  recentDays,
  snapshotToday,
  storageTotals,
} from './stats.ts'

type AdminEnv = { Bindings: Env; Variables: { session: AdminSession; nonce: string } }

const ACCOUNTS_PER_PAGE = 25

export function createAdminApp(): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()

  app.use('*', async (c, next) => {
    c.set('nonce', randomToken(16))
    await next()
    c.res.headers.set('content-security-policy', adminCsp(c.get('nonce')))
    c.res.headers.set('x-frame-options', 'DENY')
    c.res.headers.set('x-content-type-options', 'nosniff')
    // Not no-referrer: with it, browsers send `Origin: null` on the page's own forms.
    c.res.headers.set('referrer-policy', 'same-origin')
    c.res.headers.set('cache-control', 'no-store')
  })

  app.post('/login', async (c) => {
    const config = getConfig(c.env)
    const db = getDb(c.env.DB)
    const form = await c.req.parseBody()
    const countFailure = await loginLimit(c.req.raw, config, db).catch((err: unknown) => {
      if (err instanceof RateLimitExceededError) return null
      throw err
    })
    if (countFailure === null) {
      return c.html(render(c, 'Sign in', loginView('Too many attempts: wait a few minutes.')), 429)
    }
    const password = typeof form.password === 'string' ? form.password : ''
    const ok = checkAdminBasicAuth(
      `Basic ${btoa(`admin:${password}`)}`,
      config.secrets.adminPassword,
    )
    if (!ok) {
      await countFailure()
      return c.html(render(c, 'Sign in', loginView('Wrong admin password.')), 401)
    }
    const { cookie } = await openAdminSession(db, config)
    c.header('set-cookie', cookie)
    return c.redirect('/admin', 303)
  })

  // Everything else needs a session; POSTs also the CSRF token and a same-origin Origin.
  app.use('*', async (c, next) => {
    const session = await readAdminSession(getDb(c.env.DB), c.req.raw)
    if (!session) {
      if (c.req.method !== 'GET') return c.redirect('/admin', 303)
      return c.html(render(c, 'Sign in', loginView(null)), 401)
    }
    if (c.req.method === 'POST') {
      const origin = c.req.header('origin')
      const form = await c.req.parseBody()
      if (
        (origin &&
          origin !== new URL(getConfig(c.env).publicUrl).origin &&
          origin !== new URL(c.req.url).origin) ||
        !csrfMatches(session, form.csrf)
      ) {
        return c.html(
          render(
            c,
            'Refused',
            html`<p class="error" role="alert">This form has expired; go back and try again.</p>`,
            session,
          ),
          403,
        )
      }
    }
    c.set('session', session)
    await next()
  })

  app.post('/logout', async (c) => {
    c.header('set-cookie', await closeAdminSession(getDb(c.env.DB), getConfig(c.env), c.req.raw))
    return c.redirect('/admin', 303)
  })

  app.get('/', async (c) => {
    const db = getDb(c.env.DB)
    const config = getConfig(c.env)
    await snapshotToday(c.env)
    const [statuses, storage, window, days] = await Promise.all([
      accountsByStatus(db),
      storageTotals(db),
      firehoseWindow(c.env),
      recentDays(db),
    ])
    const body = overviewView({
      statuses,
      storage,
      window,
      retentionHours: config.eventRetentionHours,
      days,
      mailer: mailerLine(mailStatus(c.env, config)),
    })
    return c.html(render(c, 'Overview', body, c.get('session')))
  })

  app.get('/accounts', (c) => accountsPage(c, null))

  // Answered with the page itself, not a redirect: a new password must not travel in a URL.
  app.post('/accounts/action', async (c) => {
    const form = await c.req.parseBody()
    try {
      const done = await accountAction(
        c.env,
        String(form.did ?? ''),
        String(form.action ?? ''),
        String(form.confirm ?? ''),
      )
      return accountsPage(c, { kind: 'notice', text: done })
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
      return accountsPage(c, { kind: 'error', text: err.message })
    }
  })

  app.get('/invites', async (c) => {
    const db = getDb(c.env.DB)
    const pageOfCodes = await listInviteCodes(db, {
      sort: 'recent',
      limit: 100,
      cursor: c.req.query('cursor') || undefined,
    })
    const body = html`${flash(messageOf(c.req.query('done'), c.req.query('failed')))}${invitesView({
      codes: pageOfCodes.codes,
      csrf: c.get('session').csrf,
      next: pageOfCodes.cursor,
    })}`
    return c.html(render(c, 'Invites', body, c.get('session')))
  })

  app.post('/invites/create', async (c) => {
    const form = await c.req.parseBody()
    try {
      const [created] = await createInviteCodesFor(getDb(c.env.DB), getConfig(c.env), {
        accounts: [ADMIN_INVITE_OWNER],
        codeCount: Math.min(100, Number(form.count)),
        useCount: Number(form.uses),
      })
      const done = `Created ${created?.codes.join(', ')}`
      return c.redirect(`/admin/invites?done=${encodeURIComponent(done)}`, 303)
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
      return c.redirect(`/admin/invites?failed=${encodeURIComponent(err.message)}`, 303)
    }
  })

  app.post('/invites/disable', async (c) => {
    const form = await c.req.parseBody()
    const code = String(form.code ?? '')
    await disableInviteCodes(getDb(c.env.DB), [code])
    return c.redirect(`/admin/invites?done=${encodeURIComponent(`Disabled ${code}`)}`, 303)
  })

  app.get('/federation', async (c) => {
    const config = getConfig(c.env)
    const reports = await readRelayReports(getDb(c.env.DB))
    const body = federationView({ relays: config.crawlers, reports })
    return c.html(render(c, 'Federation', body, c.get('session')))
  })

  return app
}

type AdminContext = Context<AdminEnv>

async function accountsPage(
  c: AdminContext,
  message: { kind: 'notice' | 'error'; text: string } | null,
): Promise<Response> {
  const db = getDb(c.env.DB)
  const query = (c.req.query('q') ?? '').trim()
  const result = await searchAccounts(db, {
    query: query || null,
    limit: ACCOUNTS_PER_PAGE,
    cursor: c.req.query('cursor') || undefined,
  })
  const lines = await Promise.all(result.accounts.map((account) => accountLine(c.env, db, account)))
  const body = html`${flash(message)}${accountsView({
    query,
    lines,
    next: result.cursor,
    csrf: c.get('session').csrf,
  })}`
  return c.html(
    render(c, 'Accounts', body, c.get('session')),
    message?.kind === 'error' ? 400 : 200,
  )
}

function render(
  c: { get(key: 'nonce'): string },
  title: string,
  body: Html,
  session?: AdminSession,
): string {
  return page({ title, nonce: c.get('nonce'), body, signedIn: !!session, csrf: session?.csrf })
}

function mailerLine(status: MailStatus): string {
  if (status.mailer === 'none') return 'No mailer is configured (PDS_MAILER): no email is sent.'
  return `Mailer: ${status.mailer}${status.canSend ? ', ready' : ', cannot send (binding missing)'}.`
}

function messageOf(
  done: string | undefined,
  failed: string | undefined,
): { kind: 'notice' | 'error'; text: string } | null {
  if (failed) return { kind: 'error', text: failed }
  if (done) return { kind: 'notice', text: done }
  return null
}

/** Counts a wrong password against the address; refuses (RateLimitExceeded) past the limit. */
async function loginLimit(request: Request, config: Config, db: Db): Promise<() => Promise<void>> {
  if (!config.rateLimitsEnabled) return async () => {}
  return enforceRateLimits(
    [{ limit: LIMITS.adminAuthFailuresPerIp, key: 'ip', counts: 'failures' }],
    { nsid: 'admin-page.login', auth: null, request, config },
    d1RateLimitStore(db),
  )
}

async function accountLine(
  env: Env,
  db: Db,
  account: AccountLine['account'],
): Promise<AccountLine> {
  const [usage, repoBlocks, root] = await Promise.all([
    getBlobUsage(db, account.did),
    accountStub(env, account.did)
      .getBlockCount()
      .catch(() => null),
    db.query.repoRoot.findFirst({ where: (r, { eq }) => eq(r.did, account.did) }),
  ])
  return {
    account,
    blobBytes: usage.blobBytes,
    repoBlocks,
    lastCommit: root ? { rev: root.rev, at: root.indexedAt } : null,
  }
}

/** One account action from the page; returns what to tell the operator. */
async function accountAction(
  env: Env,
  did: string,
  action: string,
  confirm: string,
): Promise<string> {
  const db = getDb(env.DB)
  const account = await requireAccount(env, did)
  switch (action) {
    case 'takedown':
      await updateAccountModeration(env, did, { takedown: { applied: true, ref: 'admin-page' } })
      return `Took down ${account.handle}`
    case 'restore':
      await updateAccountModeration(env, did, { takedown: { applied: false } })
      return `Restored ${account.handle}`
    case 'reset-password': {
      const password = randomToken(12)
      await updateAccountPassword(
        db,
        did,
        await hashPassword(password, getConfig(env).passwordHash),
      )
      await deleteRefreshTokensOf(db, did)
      return `New password for ${account.handle}: ${password} (give it to the owner; their sessions ended)`
    }
    case 'disable-invites':
      await setInvitesDisabled(db, did, true)
      return `Invites of ${account.handle} disabled`
    case 'enable-invites':
      await setInvitesDisabled(db, did, false)
      return `Invites of ${account.handle} enabled`
    case 'delete':
      if (confirm.trim().toLowerCase() !== account.handle) {
        throw new DomainError(
          'invalid-request',
          'InvalidRequest',
          `Type ${account.handle} to delete it`,
        )
      }
      await deleteAccountEverywhere(env, did)
      return `Deleted ${account.handle}`
    default:
      throw new DomainError('invalid-request', 'InvalidRequest', `Unknown action ${action}`)
  }
}
