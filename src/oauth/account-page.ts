/**
 * The account page (`/account`): a person signed in on this browser (the same sign-in as the
 * authorization pages) sees the apps holding an OAuth session and their app passwords, and
 * revokes any of them; revocation takes effect at once (the session row goes, and with it
 * every access token; an app password's sessions end with it).
 */

import { describeScope } from '../auth/scopes/index.ts'
import {
  deleteOAuthSession,
  forgetDeviceAccount,
  listDeviceAccounts,
  listOAuthSessions,
  type RememberedAccount,
  rememberDeviceAccount,
} from '../db/oauth.ts'
import { listAppPasswords, revokeAppPassword } from '../db/sessions.ts'
import { checkFormPost, type Device, deviceOf } from './device.ts'
import type { OAuthDeps } from './endpoint.ts'
import { DEVICE_SIGN_IN_LIFETIME, nowSeconds } from './lifetimes.ts'
import { type Html, html, messagePage, page } from './pages/html.ts'
import { signIn } from './sign-in.ts'

export const ACCOUNT_PATH = '/account'

export async function handleAccountPage(request: Request, deps: OAuthDeps): Promise<Response> {
  const device = deviceOf(request, deps.config, true)
  const accounts = await listDeviceAccounts(deps.db, device.hash, nowSeconds())
  const wanted = new URL(request.url).searchParams.get('did')
  const selected = accounts.find((a) => a.did === wanted) ?? accounts[0]
  const body = selected
    ? await accountBody(device, selected, accounts, deps)
    : signInForm(device, deps.config.hostname)
  return page({
    title: 'Your account',
    body,
    headers: device.setCookie ? { 'Set-Cookie': device.setCookie } : {},
  })
}

function signInForm(device: Device, serverName: string, error?: string): Html {
  return html`<h1>Sign in to ${serverName}</h1>
<p>Sign in to see and end the sessions of apps using your account.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${ACCOUNT_PATH}/sign-in">
<input type="hidden" name="csrf" value="${device.csrf}">
<label for="identifier">Handle or email</label>
<input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`
}

async function accountBody(
  device: Device,
  account: RememberedAccount,
  accounts: RememberedAccount[],
  deps: OAuthDeps,
): Promise<Html> {
  const [sessions, passwords] = await Promise.all([
    listOAuthSessions(deps.db, account.did, nowSeconds()),
    listAppPasswords(deps.db, account.did),
  ])
  const revokeForm = (
    kind: string,
    id: string,
    label: string,
  ) => html`<form method="post" action="${ACCOUNT_PATH}/revoke">
<input type="hidden" name="csrf" value="${device.csrf}"><input type="hidden" name="did" value="${account.did}">
<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="id" value="${id}">
<button type="submit" class="secondary" aria-label="${label}">Revoke</button></form>`
  const others = accounts.filter((a) => a.did !== account.did)
  return html`<h1>@${account.handle}</h1>
<h2>Apps signed in with OAuth</h2>
${
  sessions.length === 0
    ? html`<p class="muted">No app is signed in.</p>`
    : html`<ul class="plain">${sessions.map(
        (s) => html`<li><div><strong>${s.clientName ?? s.clientId}</strong><br>
<span class="muted">${s.clientId}</span><br>
<span class="muted">Since ${new Date(s.createdAt * 1000).toISOString().slice(0, 10)}, last used ${new Date(s.updatedAt * 1000).toISOString().slice(0, 10)}. ${describeScope(
          s.scope,
        )
          .map((item) => item.text)
          .join(' ')}</span></div>
${revokeForm('oauth', s.id, `Revoke ${s.clientName ?? s.clientId}`)}</li>`,
      )}</ul>`
}
<h2>App passwords</h2>
${
  passwords.length === 0
    ? html`<p class="muted">No app passwords.</p>`
    : html`<ul class="plain">${passwords.map(
        (
          p,
        ) => html`<li><div><strong>${p.name}</strong><br><span class="muted">Created ${p.createdAt.slice(0, 10)}${p.privileged ? ', privileged' : ''}</span></div>
${revokeForm('app-password', p.name, `Revoke app password ${p.name}`)}</li>`,
      )}</ul>`
}
${others.length > 0 ? html`<h2>Other accounts on this device</h2><ul>${others.map((a) => html`<li><a href="${ACCOUNT_PATH}?did=${encodeURIComponent(a.did)}">@${a.handle}</a></li>`)}</ul>` : ''}
<form method="post" action="${ACCOUNT_PATH}/sign-out">
<input type="hidden" name="csrf" value="${device.csrf}"><input type="hidden" name="did" value="${account.did}">
<div class="actions"><button type="submit" class="secondary">Sign out of this device</button></div>
</form>
<p><a href="${ACCOUNT_PATH}?add=1">Sign in with another account</a></p>`
}

async function accountForm(request: Request, deps: OAuthDeps) {
  const text = await request.text()
  const form = new URLSearchParams(text.length > 16 * 1024 ? '' : text)
  const device = deviceOf(request, deps.config, false)
  if (!device || !checkFormPost(request, form, device, deps.config)) return null
  return { form, device }
}

function toAccount(did?: string): Response {
  const location = did ? `${ACCOUNT_PATH}?did=${encodeURIComponent(did)}` : ACCOUNT_PATH
  return new Response(null, {
    status: 303,
    headers: { Location: location, 'Cache-Control': 'no-store' },
  })
}

const expired = () =>
  messagePage('Form expired', 'This form is not valid any more. Reload the page.', 403)

export async function handleAccountSignIn(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await accountForm(request, deps)
  if (!got) return expired()
  const result = await signIn(
    request,
    { identifier: got.form.get('identifier') ?? '', password: got.form.get('password') ?? '' },
    deps,
  )
  if (!result.ok) {
    return page({
      title: 'Sign in',
      status: result.status,
      body: signInForm(got.device, deps.config.hostname, result.message),
    })
  }
  const now = nowSeconds()
  await rememberDeviceAccount(
    deps.db,
    got.device.hash,
    result.account.did,
    now,
    now + DEVICE_SIGN_IN_LIFETIME,
  )
  return toAccount(result.account.did)
}

/** The account must be signed in on this browser; then one session or app password ends. */
export async function handleAccountRevoke(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await accountForm(request, deps)
  if (!got) return expired()
  const did = got.form.get('did') ?? ''
  const id = got.form.get('id') ?? ''
  const accounts = await listDeviceAccounts(deps.db, got.device.hash, nowSeconds())
  if (!accounts.some((a) => a.did === did)) return expired()
  const kind = got.form.get('kind')
  if (kind === 'oauth') await deleteOAuthSession(deps.db, id, did)
  else if (kind === 'app-password') await revokeAppPassword(deps.db, did, id)
  return toAccount(did)
}

export async function handleAccountSignOut(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await accountForm(request, deps)
  if (!got) return expired()
  await forgetDeviceAccount(deps.db, got.device.hash, got.form.get('did') ?? '')
  return toAccount()
}
