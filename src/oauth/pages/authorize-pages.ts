/** The sign-in and consent pages of an authorization request. */

import type { ConsentItem } from '../../auth/scopes/index.ts'
import type { RememberedAccount } from '../../db/oauth.ts'
import type { Client } from '../client-metadata.ts'
import { type Html, html } from './html.ts'

export interface RequestContext {
  requestUri: string
  csrf: string
  client: Client
  serverName: string
}

function hidden(ctx: RequestContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}">
<input type="hidden" name="request_uri" value="${ctx.requestUri}">`
}

export function clientHeader(client: Client): Html {
  const m = client.metadata
  const name = m.client_name ?? new URL(client.id).host
  const link = (label: string, href: string | undefined) =>
    href ? html` <a href="${href}" rel="noopener noreferrer">${label}</a>` : ''
  return html`<div class="client card">
${m.logo_uri ? html`<img src="${m.logo_uri}" alt="" width="48" height="48">` : ''}
<div><strong>${name}</strong><br><span class="muted">${client.loopback ? 'A development app on this computer' : new URL(client.id).host}</span>
${m.client_uri || m.tos_uri || m.policy_uri ? html`<br><span class="muted">${link('Website', m.client_uri)}${link('Terms', m.tos_uri)}${link('Privacy', m.policy_uri)}</span>` : ''}</div>
</div>`
}

export interface SignInView {
  identifier?: string
  error?: string
  codeRequired?: boolean
  remembered: RememberedAccount[]
}

export function signInBody(ctx: RequestContext, view: SignInView): Html {
  const chooser =
    view.remembered.length > 0 && !view.codeRequired
      ? html`<h2>Continue as</h2>
${view.remembered.map(
  (account) => html`<form method="post" action="/oauth/authorize/select">
${hidden(ctx)}<input type="hidden" name="did" value="${account.did}">
<button type="submit" class="secondary">@${account.handle}</button>
</form>`,
)}
<h2>Or sign in with another account</h2>`
      : ''
  return html`<h1>Sign in to ${ctx.serverName}</h1>
${clientHeader(ctx.client)}
<p>This app asks you to sign in with your account on ${ctx.serverName}.</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${chooser}
<form method="post" action="/oauth/authorize/sign-in">
${hidden(ctx)}
<label for="identifier">Handle or email</label>
<input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${view.identifier ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
${view.codeRequired ? html`<label for="code">Code from your email</label><input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="text" required>` : ''}
<div class="actions"><button type="submit">Sign in</button></div>
</form>
<form method="post" action="/oauth/authorize/consent">
${hidden(ctx)}<input type="hidden" name="decision" value="deny">
<div class="actions"><button type="submit" class="secondary">Cancel</button></div>
</form>`
}

export function consentBody(ctx: RequestContext, handle: string, items: ConsentItem[]): Html {
  return html`<h1>Allow access?</h1>
${clientHeader(ctx.client)}
<p>Signed in as <strong>@${handle}</strong>. This app asks to:</p>
<ul class="permissions">
${items.map(
  (item) =>
    html`<li>${item.broad ? html`<strong>${item.text}</strong>` : item.text}${
      item.details?.length ? html`<ul>${item.details.map((d) => html`<li>${d}</li>`)}</ul>` : ''
    }</li>`,
)}
</ul>
<p class="muted">You can end this access at any time from your account page on ${ctx.serverName}.</p>
<form method="post" action="/oauth/authorize/consent">
${hidden(ctx)}
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>`
}
