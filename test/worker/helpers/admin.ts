/** Calls of com.atproto.admin.* for the workerd tests: the admin password or a moderation JWT. */
import { SELF } from 'cloudflare:test'
import { inject } from 'vitest'
import { createServiceAuthToken } from '../../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../../src/crypto/secp256k1-keypair.ts'
import { BASE } from './xrpc.ts'

export const ADMIN = `Basic ${btoa('admin:test-admin-password')}`
export const WRONG = `Basic ${btoa('admin:not-the-password')}`

/**
 * A client address of its own per call: the refusals these tests provoke on purpose must not
 * add up to the per-address limit on failed admin credentials (rate-limits.test.ts tests it).
 */
function fromSomewhere(): Record<string, string> {
  const byte = () => Math.floor(Math.random() * 254) + 1
  return { 'cf-connecting-ip': `10.${byte()}.${byte()}.${byte()}` }
}

/** A fresh JWT from the moderation service for `lxm` (each carries its own `jti`). */
export async function modJwt(lxm: string, iss = inject('modServiceDid')): Promise<string> {
  const keypair = await Secp256k1Keypair.import(inject('modServiceKey'))
  return `Bearer ${await createServiceAuthToken({ iss, aud: 'did:web:localhost', lxm, keypair })}`
}

export async function adminGet(
  nsid: string,
  params: Record<string, string | string[]>,
  authorization: string | null = ADMIN,
) {
  const url = new URL(`${BASE}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v)
  }
  const res = await SELF.fetch(url, {
    headers: { ...fromSomewhere(), ...(authorization ? { authorization } : {}) },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export async function adminPost(nsid: string, body: unknown, authorization: string | null = ADMIN) {
  const res = await SELF.fetch(`${BASE}/xrpc/${nsid}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...fromSomewhere(),
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status === 500) throw new Error(`500: ${text}`)
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
}
