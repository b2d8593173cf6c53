/** Handle → DID → DID document → PDS endpoint and signing key, as any client resolves them. */
import { resolveTxt } from 'node:dns/promises'
import { didKeyFromVerificationMethod } from '../../src/crypto/did-key.ts'
import { causeOf } from './xrpc.ts'

export class IdentityError extends Error {
  override name = 'IdentityError'
}

/** Whether an account argument is a PDS's URL rather than a handle or a DID. */
export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value)
}

export interface DidDocument {
  id: string
  alsoKnownAs?: string[]
  verificationMethod?: { id: string; type: string; publicKeyMultibase?: string }[]
  service?: { id: string; type: string; serviceEndpoint: string }[]
}

export async function resolveHandle(handle: string): Promise<string> {
  const name = handle.replace(/^@/, '').toLowerCase()
  try {
    const records = await resolveTxt(`_atproto.${name}`)
    const found = records.map((r) => r.join('')).find((r) => r.startsWith('did='))
    if (found) return found.slice(4)
  } catch {
    // no TXT record: try the well-known file
  }
  try {
    const res = await fetch(`https://${name}/.well-known/atproto-did`, {
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    })
    const did = (await res.text()).trim()
    if (res.ok && did.startsWith('did:')) return did
  } catch {
    // fall through
  }
  throw new IdentityError(
    `cannot resolve the handle ${name} (no _atproto TXT record, no https well-known file); ` +
      'give its PDS instead: --from <PDS URL> --account <handle>',
  )
}

export async function resolveDidDocument(did: string, plcUrl: string): Promise<DidDocument> {
  let url: string
  if (did.startsWith('did:plc:')) url = `${plcUrl}/${did}`
  else if (did.startsWith('did:web:')) {
    url = `https://${decodeURIComponent(did.slice('did:web:'.length))}/.well-known/did.json`
  } else throw new IdentityError(`unsupported DID method: ${did}`)
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000) })
  } catch (err) {
    throw new IdentityError(`cannot reach ${url} to resolve ${did}: ${causeOf(err)}`)
  }
  if (!res.ok) throw new IdentityError(`${url} answered ${res.status} for ${did}`)
  const doc = (await res.json()) as DidDocument
  if (doc.id !== did) throw new IdentityError(`the document at ${url} is not ${did}'s`)
  return doc
}

export function pdsEndpoint(doc: DidDocument): string | null {
  const service = doc.service?.find(
    (s) => s.id.endsWith('#atproto_pds') && s.type === 'AtprotoPersonalDataServer',
  )
  return service ? new URL(service.serviceEndpoint).origin : null
}

/** The atproto signing key as a did:key (Multikey, or the legacy types PLC still writes). */
export function signingKey(doc: DidDocument): string | null {
  const method = doc.verificationMethod?.find((m) => m.id.endsWith('#atproto'))
  if (!method) return null
  try {
    return didKeyFromVerificationMethod(method)
  } catch {
    return null
  }
}
