/**
 * What PAR, token and revoke share: reading the form body, checking the DPoP proof against
 * our own URL for the endpoint, and answering with the current DPoP nonce.
 */
import type { Config } from '../config.ts'
import type { Db } from '../db/index.ts'
import { DpopError, type DpopProof, verifyDpopProof } from './dpop.ts'
import { currentDpopNonce } from './dpop-nonce.ts'
import { invalidRequest, OAuthError, oauthErrorResponse } from './errors.ts'

export interface OAuthDeps {
  db: Db
  config: Config
  /** For the mail the sign-in pages send (email sign-in codes). */
  env: Env
}

const MAX_FORM_BYTES = 64 * 1024

export async function readForm(request: Request): Promise<URLSearchParams> {
  if (request.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST')
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  const text = await request.text()
  if (text.length > MAX_FORM_BYTES) throw invalidRequest('The request body is too large')
  if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(text)
  if (type === 'application/json') {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw invalidRequest('The body is not valid JSON')
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw invalidRequest('The body is not a JSON object')
    }
    const form = new URLSearchParams()
    for (const [key, value] of Object.entries(json)) {
      if (typeof value === 'string') form.set(key, value)
    }
    return form
  }
  throw invalidRequest('Send application/x-www-form-urlencoded')
}

/** The proof's key, or the OAuth error RFC 9449 gives (400 `use_dpop_nonce` with the nonce). */
export async function requireDpop(
  request: Request,
  deps: OAuthDeps,
  path: string,
): Promise<DpopProof> {
  try {
    return await verifyDpopProof(request, { ...deps, htu: `${deps.config.publicUrl}${path}` })
  } catch (err) {
    if (!(err instanceof DpopError)) throw err
    if (err.kind === 'nonce') {
      throw new OAuthError(400, 'use_dpop_nonce', err.message, {
        'WWW-Authenticate': `DPoP error="use_dpop_nonce", error_description="${err.message}"`,
      })
    }
    throw new OAuthError(400, 'invalid_dpop_proof', err.message)
  }
}

/** Runs an endpoint: its JSON answer or its OAuth error, always with a fresh DPoP nonce. */
export async function answer(
  deps: OAuthDeps,
  run: () => Promise<{ status?: number; body: unknown }>,
): Promise<Response> {
  const headers = { 'DPoP-Nonce': currentDpopNonce(deps.config) }
  try {
    const { status, body } = await run()
    return Response.json(body, {
      status: status ?? 200,
      headers: { ...headers, 'Cache-Control': 'no-store' },
    })
  } catch (err) {
    return oauthErrorResponse(err, headers)
  }
}
