/**
 * A hand-written atproto OAuth client (jose for the JWTs), for what the official client will
 * not do: confidential clients served from loopback, and every malformed or replayed request
 * the negative tests send. Pages are walked with plain form posts (no JavaScript needed).
 */
import { createHash, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

export interface DpopKey {
  keys: KeyPair
  jwk: JWK
  jkt: string
}

export async function newDpopKey(): Promise<DpopKey> {
  const keys = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(keys.publicKey)
  return { keys, jwk, jkt: await calculateJwkThumbprint(jwk) }
}

export interface ProofOptions {
  nonce?: string | null
  ath?: string
  jti?: string
  iat?: number
  htm?: string
  htu?: string
}

export function b64url(bytes: Buffer): string {
  return bytes.toString('base64url')
}

export function accessTokenHash(token: string): string {
  return b64url(createHash('sha256').update(token).digest())
}

export async function dpopProof(
  key: DpopKey,
  method: string,
  url: string,
  opts: ProofOptions = {},
): Promise<string> {
  const target = new URL(url)
  const payload: Record<string, unknown> = {
    htm: opts.htm ?? method,
    htu: opts.htu ?? `${target.origin}${target.pathname}`,
    jti: opts.jti ?? b64url(randomBytes(12)),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...(opts.ath ? { ath: opts.ath } : {}),
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.keys.privateKey)
}

export interface ClientSigningKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function newClientSigningKey(kid: string): Promise<ClientSigningKey> {
  const keys = await generateKeyPair('ES256', { extractable: true })
  const publicJwk = { ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256', use: 'sig' }
  return { kid, privateKey: keys.privateKey as CryptoKey, publicJwk }
}

export interface RawClientOptions {
  pdsUrl: string
  clientId: string
  redirectUri: string
  scope: string
  /** private_key_jwt: the key the client authenticates with. */
  signingKey?: ClientSigningKey
}

export interface PkceRequest {
  requestUri: string
  verifier: string
  state: string
}

export class RawOAuthClient {
  readonly opts: RawClientOptions
  dpop!: DpopKey
  nonce: string | null = null

  constructor(opts: RawClientOptions) {
    this.opts = opts
  }

  static async create(opts: RawClientOptions): Promise<RawOAuthClient> {
    const client = new RawOAuthClient(opts)
    client.dpop = await newDpopKey()
    return client
  }

  async clientAssertion(overrides: Record<string, unknown> = {}): Promise<string> {
    const key = this.opts.signingKey!
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: this.opts.clientId,
      sub: this.opts.clientId,
      aud: this.opts.pdsUrl,
      jti: b64url(randomBytes(12)),
      iat: now,
      exp: now + 60,
      ...overrides,
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign(key.privateKey)
  }

  async clientAuthFields(): Promise<Record<string, string>> {
    if (!this.opts.signingKey) return { client_id: this.opts.clientId }
    return {
      client_id: this.opts.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await this.clientAssertion(),
    }
  }

  /**
   * POSTs a form to an authorization server endpoint with a DPoP proof, retrying once with
   * the nonce the server asks for (unless `proof` is given: then exactly that is sent).
   */
  async post(
    path: string,
    form: Record<string, string>,
    opts: { proof?: string | null; key?: DpopKey } = {},
  ): Promise<Response> {
    const url = `${this.opts.pdsUrl}${path}`
    const send = async (proof: string | null) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(proof ? { dpop: proof } : {}),
        },
        body: new URLSearchParams(form),
      })
    if (opts.proof !== undefined) return this.remember(await send(opts.proof))
    const key = opts.key ?? this.dpop
    let res = this.remember(await send(await dpopProof(key, 'POST', url, { nonce: this.nonce })))
    if (res.status === 400 && (await res.clone().json()).error === 'use_dpop_nonce') {
      res = this.remember(await send(await dpopProof(key, 'POST', url, { nonce: this.nonce })))
    }
    return res
  }

  private remember(res: Response): Response {
    this.nonce = res.headers.get('dpop-nonce') ?? this.nonce
    return res
  }

  async par(extra: Record<string, string> = {}): Promise<{ res: Response } & PkceRequest> {
    const verifier = b64url(randomBytes(32))
    const state = b64url(randomBytes(12))
    const res = await this.post('/oauth/par', {
      ...(await this.clientAuthFields()),
      response_type: 'code',
      redirect_uri: this.opts.redirectUri,
      scope: this.opts.scope,
      state,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      ...extra,
    })
    const body = res.ok ? await res.clone().json() : {}
    return { res, requestUri: body.request_uri, verifier, state }
  }

  async token(form: Record<string, string>, opts: { key?: DpopKey } = {}): Promise<Response> {
    return this.post('/oauth/token', { ...(await this.clientAuthFields()), ...form }, opts)
  }

  /** PAR, the pages (sign in, allow), and the code exchange: the token response. */
  async signIn(identifier: string, password: string) {
    const request = await this.par()
    const redirect = await approveWithForms(
      this.opts.pdsUrl,
      this.opts.clientId,
      request.requestUri,
      {
        identifier,
        password,
      },
    )
    const code = redirect.searchParams.get('code')!
    const res = await this.token({
      grant_type: 'authorization_code',
      code,
      code_verifier: request.verifier,
      redirect_uri: this.opts.redirectUri,
    })
    return { res, code, request, redirect, tokens: res.ok ? await res.clone().json() : null }
  }

  /** A resource request with the DPoP scheme (or `scheme`), retrying once for a nonce. */
  async xrpc(
    nsid: string,
    accessToken: string,
    opts: {
      method?: 'GET' | 'POST'
      params?: Record<string, string>
      body?: unknown
      scheme?: string
      key?: DpopKey
      proof?: string | null
    } = {},
  ): Promise<Response> {
    const method = opts.method ?? 'GET'
    const url = `${this.opts.pdsUrl}/xrpc/${nsid}${opts.params ? `?${new URLSearchParams(opts.params)}` : ''}`
    const send = async (proof: string | null) =>
      fetch(url, {
        method,
        headers: {
          authorization: `${opts.scheme ?? 'DPoP'} ${accessToken}`,
          ...(proof ? { dpop: proof } : {}),
          ...(opts.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(opts.body ? { body: JSON.stringify(opts.body) } : {}),
      })
    if (opts.proof !== undefined) return this.remember(await send(opts.proof))
    const key = opts.key ?? this.dpop
    const make = () =>
      dpopProof(key, method, url, { nonce: this.nonce, ath: accessTokenHash(accessToken) })
    let res = this.remember(await send(await make()))
    if (res.status === 401 && res.headers.get('www-authenticate')?.includes('use_dpop_nonce')) {
      res = this.remember(await send(await make()))
    }
    return res
  }
}

/**
 * The user's side with plain form posts and a cookie, as a browser without JavaScript does:
 * open the request, sign in, allow (or deny). The URL the app is sent back to.
 */
export async function approveWithForms(
  pdsUrl: string,
  clientId: string,
  requestUri: string,
  opts: { identifier: string; password: string; decision?: 'allow' | 'deny' },
): Promise<URL> {
  const authorize = `${pdsUrl}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`
  const page = await fetch(authorize)
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${await page.text()}`)
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!
  const csrf = csrfOf(await page.text())
  const post = (path: string, form: Record<string, string>) =>
    fetch(`${pdsUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, request_uri: requestUri, ...form }),
    })
  const signedIn = await post('/oauth/authorize/sign-in', {
    identifier: opts.identifier,
    password: opts.password,
  })
  if (signedIn.status !== 303)
    throw new Error(`sign-in: ${signedIn.status} ${await signedIn.text()}`)
  const consent = await fetch(new URL(signedIn.headers.get('location')!, pdsUrl), {
    headers: { cookie },
  })
  if (!(await consent.text()).includes('Allow access?')) throw new Error('no consent page')
  const decided = await post('/oauth/authorize/consent', { decision: opts.decision ?? 'allow' })
  if (decided.status !== 303) throw new Error(`consent: ${decided.status} ${await decided.text()}`)
  return new URL(decided.headers.get('location')!)
}

export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html)
  if (!match?.[1]) throw new Error('no CSRF token on the page')
  return match[1]
}
