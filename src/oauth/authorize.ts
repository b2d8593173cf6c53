/**
 * The authorization endpoint and its pages. GET shows, for the request PAR stored, the
 * sign-in page (with the accounts this browser remembers) or, once signed in, the consent
 * page. The forms post back here; a decision redirects to the client with `code` (or
 * `error=access_denied`), `state` and `iss`. The first browser to open a request owns it;
 * link previewers get a page that leaves it untouched.
 */
import { randomToken } from '../auth/random-token.ts'
import { getAccountByDid } from '../db/accounts.ts'
import {
  bindOAuthRequest,
  deleteOAuthRequest,
  getOAuthRequest,
  listDeviceAccounts,
  type OAuthRequestRow,
  rememberDeviceAccount,
  setOAuthRequestAccount,
  setOAuthRequestCode,
} from '../db/oauth.ts'
import { resolveClient } from './client-metadata.ts'
import { checkFormPost, type Device, deviceOf, isCrawler } from './device.ts'
import type { OAuthDeps } from './endpoint.ts'
import { consentItems } from './granted-scope.ts'
import {
  AUTHORIZATION_LIFETIME,
  CODE_LIFETIME,
  DEVICE_SIGN_IN_LIFETIME,
  nowSeconds,
} from './lifetimes.ts'
import { OAUTH_PATHS } from './metadata.ts'
import {
  consentBody,
  type RequestContext,
  type SignInView,
  signInBody,
} from './pages/authorize-pages.ts'
import { messagePage, page } from './pages/html.ts'
import type { AuthorizationParameters } from './par.ts'
import { requestIdOf } from './request-uri.ts'
import { tokenHash } from './secrets.ts'
import { signIn } from './sign-in.ts'

const FORM_LIMIT = 16 * 1024

export async function handleAuthorizeGet(request: Request, deps: OAuthDeps): Promise<Response> {
  const url = new URL(request.url)
  const id = requestIdOf(url.searchParams.get('request_uri'))
  const clientId = url.searchParams.get('client_id')
  if (!id)
    return messagePage(
      'Sign-in link not valid',
      'This link has no valid request. Go back to the app and try again.',
    )
  const now = nowSeconds()
  if (isCrawler(request)) {
    // Looked at, not used: the request stays for the person who follows the link.
    return messagePage(
      'Sign in',
      `Open this link in your browser to sign in to ${deps.config.hostname}.`,
      200,
    )
  }
  const device = deviceOf(request, deps.config, true)
  const row = await bindOAuthRequest(deps.db, id, device.hash, now, now + AUTHORIZATION_LIFETIME)
  if (!row || (clientId !== null && clientId !== row.clientId)) {
    return messagePage(
      'Sign-in link expired',
      'This sign-in link has expired, was already used, or was opened in another browser. Go back to the app and try again.',
    )
  }
  return renderRequest(request, row, device, deps, {})
}

async function renderRequest(
  request: Request,
  row: OAuthRequestRow,
  device: Device,
  deps: OAuthDeps,
  view: Partial<SignInView> & { status?: number },
): Promise<Response> {
  const client = await resolveClient(row.clientId, deps)
  const parameters = JSON.parse(row.parameters) as AuthorizationParameters
  const ctx: RequestContext = {
    requestUri: new URL(request.url).searchParams.get('request_uri') ?? requestUriOf(row),
    csrf: device.csrf,
    client,
    serverName: deps.config.hostname,
  }
  const headers: Record<string, string> = device.setCookie ? { 'Set-Cookie': device.setCookie } : {}
  const formTargets = [redirectOrigin(parameters.redirect_uri)]
  if (row.did) {
    const account = await getAccountByDid(deps.db, row.did)
    if (account) {
      return page({
        title: 'Allow access?',
        body: consentBody(ctx, account.handle, await consentItems(parameters.scope, deps)),
        formTargets,
        headers,
        devMode: deps.config.devMode,
      })
    }
  }
  const remembered =
    parameters.prompt === 'login'
      ? []
      : await listDeviceAccounts(deps.db, device.hash, nowSeconds())
  return page({
    title: `Sign in to ${deps.config.hostname}`,
    body: signInBody(ctx, {
      remembered,
      identifier: view.identifier ?? parameters.login_hint,
      ...(view.error ? { error: view.error } : {}),
      ...(view.codeRequired ? { codeRequired: true } : {}),
    }),
    status: view.status ?? 200,
    formTargets,
    headers,
    devMode: deps.config.devMode,
  })
}

function requestUriOf(row: OAuthRequestRow): string {
  return `urn:ietf:params:oauth:request_uri:req-${row.id}`
}

function redirectOrigin(uri: string): string {
  const url = new URL(uri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : `${url.protocol}`
}

/** A form post of the pages: the request it is about, in this browser, with a valid CSRF token. */
type FormRequest =
  | { error: Response }
  | { form: URLSearchParams; device: Device; row: OAuthRequestRow }

async function formRequest(request: Request, deps: OAuthDeps): Promise<FormRequest> {
  const text = await request.text()
  if (text.length > FORM_LIMIT)
    return { error: messagePage('Request too large', 'The form is too large.', 413) }
  const form = new URLSearchParams(text)
  const device = deviceOf(request, deps.config, false)
  if (!device || !checkFormPost(request, form, device, deps.config)) {
    return {
      error: messagePage(
        'Form expired',
        'This form is not valid any more. Go back to the app and start again.',
        403,
      ),
    }
  }
  const id = requestIdOf(form.get('request_uri'))
  const row = id ? await getOAuthRequest(deps.db, id, nowSeconds()) : null
  if (!row || row.deviceId !== device.hash || row.codeHash) {
    return {
      error: messagePage(
        'Sign-in link expired',
        'This sign-in request has expired. Go back to the app and try again.',
      ),
    }
  }
  return { form, device, row }
}

function backToRequest(row: OAuthRequestRow, extra: Record<string, string> = {}): Response {
  const params = new URLSearchParams({
    client_id: row.clientId,
    request_uri: requestUriOf(row),
    ...extra,
  })
  return new Response(null, {
    status: 303,
    headers: { Location: `${OAUTH_PATHS.authorize}?${params}`, 'Cache-Control': 'no-store' },
  })
}

export async function handleSignIn(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await formRequest(request, deps)
  if ('error' in got) return got.error
  const { form, device, row } = got
  const identifier = form.get('identifier') ?? ''
  const code = form.get('code')
  const result = await signIn(
    request,
    { identifier, password: form.get('password') ?? '', ...(code ? { code } : {}) },
    deps,
  )
  if (!result.ok) {
    return renderRequest(request, row, device, deps, {
      identifier,
      error: result.message,
      status: result.status,
      ...(result.codeRequired ? { codeRequired: true } : {}),
    })
  }
  const now = nowSeconds()
  await rememberDeviceAccount(
    deps.db,
    device.hash,
    result.account.did,
    now,
    now + DEVICE_SIGN_IN_LIFETIME,
  )
  await setOAuthRequestAccount(deps.db, row.id, device.hash, result.account.did)
  return backToRequest(row)
}

/** "Continue as": an account this browser signed in with recently, without its password. */
export async function handleSelectAccount(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await formRequest(request, deps)
  if ('error' in got) return got.error
  const { form, device, row } = got
  const did = form.get('did')
  const parameters = JSON.parse(row.parameters) as AuthorizationParameters
  const remembered = await listDeviceAccounts(deps.db, device.hash, nowSeconds())
  if (parameters.prompt === 'login' || !remembered.some((account) => account.did === did)) {
    return renderRequest(request, row, device, deps, {
      error: 'Sign in again with your password.',
      status: 401,
    })
  }
  await setOAuthRequestAccount(deps.db, row.id, device.hash, did)
  return backToRequest(row)
}

export async function handleConsent(request: Request, deps: OAuthDeps): Promise<Response> {
  const got = await formRequest(request, deps)
  if ('error' in got) return got.error
  const { form, device, row } = got
  const parameters = JSON.parse(row.parameters) as AuthorizationParameters
  if (form.get('decision') === 'allow' && row.did) {
    const code = `cod-${randomToken(32)}`
    const issued = await setOAuthRequestCode(
      deps.db,
      row.id,
      device.hash,
      tokenHash(code),
      nowSeconds() + CODE_LIFETIME,
    )
    if (issued) return redirectToClient(parameters, deps, { code })
    return messagePage('Sign-in link expired', 'This request was already answered.')
  }
  await deleteOAuthRequest(deps.db, row.id)
  return redirectToClient(parameters, deps, {
    error: 'access_denied',
    error_description: 'The user did not allow access',
  })
}

function redirectToClient(
  parameters: AuthorizationParameters,
  deps: OAuthDeps,
  result: Record<string, string>,
): Response {
  const values = new URLSearchParams({
    ...result,
    state: parameters.state,
    iss: deps.config.publicUrl,
  })
  const url = new URL(parameters.redirect_uri)
  if (parameters.response_mode === 'fragment') {
    url.hash = values.toString()
  } else {
    for (const [key, value] of values) url.searchParams.set(key, value)
  }
  return new Response(null, {
    status: 303,
    headers: { Location: url.href, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
  })
}
