/**
 * Lexicon resolution (atproto.com/specs/lexicon, publication and resolution), for the
 * permission sets OAuth clients request (`include:<nsid>`): the NSID's authority (the NSID
 * less its name, reversed: `app.example.authFull` → `example.app`) names a DID in the DNS TXT
 * record `_lexicon.<authority>` (`did=...`); the schema is the record
 * `com.atproto.lexicon.schema/<nsid>` in that DID's repo, fetched from its PDS with its proof
 * (`com.atproto.sync.getRecord`) and believed only if the commit is signed by the DID's key
 * and the MST leads to the record.
 */
import { decodeCbor } from '../data/cbor.ts'
import { CID } from '../data/cid.ts'
import { MemoryBlockStore, readBlock } from '../repo/block-store.ts'
import { readCar } from '../repo/car.ts'
import { parseCommit, verifyCommitSignature } from '../repo/commit.ts'
import { Mst } from '../repo/mst/index.ts'
import { isValidNsid } from '../syntax/nsid.ts'
import type { DidResolver } from './did-resolver.ts'
import { type FetchFn, fetchWithTimeout, globalFetch, readBytesLimited } from './http.ts'
import { isServiceUrlAllowed } from './service-url.ts'

export const LEXICON_SCHEMA_COLLECTION = 'com.atproto.lexicon.schema'
const MAX_PROOF_BYTES = 1024 * 1024
const DEFAULT_TIMEOUT_MS = 5_000

export class LexiconResolutionError extends Error {
  override name = 'LexiconResolutionError'
}

export interface LexiconResolverDeps {
  /** The DID the TXT records of a DNS name give (`HandleResolver.resolveTxtDid`). */
  txtDid(name: string): Promise<string | null>
  didResolver: Pick<DidResolver, 'resolveAtprotoData'>
  fetch?: FetchFn
  /** Loopback PDS endpoints are fetched only in development. */
  devMode: boolean
  timeoutMs?: number
}

export interface ResolvedLexicon {
  /** The authority's DID, whose repo holds the schema. */
  did: string
  /** The schema document, as published. */
  document: unknown
}

export async function resolveLexicon(
  nsid: string,
  deps: LexiconResolverDeps,
): Promise<ResolvedLexicon> {
  if (!isValidNsid(nsid)) throw new LexiconResolutionError(`not an NSID: ${nsid}`)
  const authority = nsid.split('.').slice(0, -1).reverse().join('.').toLowerCase()
  const did = await deps.txtDid(`_lexicon.${authority}`)
  if (!did) throw new LexiconResolutionError(`no DID for the NSID authority ${authority}`)
  const identity = await deps.didResolver.resolveAtprotoData(did)
  if (!identity.signingKey || !identity.pdsEndpoint) {
    throw new LexiconResolutionError(`${did} has no signing key or PDS`)
  }
  if (!isServiceUrlAllowed(identity.pdsEndpoint, { devMode: deps.devMode })) {
    throw new LexiconResolutionError(`the PDS of ${did} is not a public https URL`)
  }
  const url = new URL('/xrpc/com.atproto.sync.getRecord', identity.pdsEndpoint)
  url.searchParams.set('did', did)
  url.searchParams.set('collection', LEXICON_SCHEMA_COLLECTION)
  url.searchParams.set('rkey', nsid)
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const response = await fetchWithTimeout(
    deps.fetch ?? globalFetch,
    url.toString(),
    { headers: { accept: 'application/vnd.ipld.car' } },
    timeoutMs,
  )
  if (!response.ok) {
    await response.body?.cancel()
    throw new LexiconResolutionError(`${url.host} answered ${response.status} for ${nsid}`)
  }
  const car = await readBytesLimited(response, MAX_PROOF_BYTES, url.toString(), timeoutMs)
  const document = await provenRecord(
    car,
    did,
    identity.signingKey,
    `${LEXICON_SCHEMA_COLLECTION}/${nsid}`,
  )
  return { did, document }
}

/** The record at `key` if the CAR proves it: the DID's commit, signed, and the MST path. */
async function provenRecord(
  car: Uint8Array,
  did: string,
  signingKey: string,
  key: string,
): Promise<unknown> {
  const { roots, blocks } = await readCar(car)
  const root = roots[0]
  if (!root) throw new LexiconResolutionError('the proof has no commit')
  const store = new MemoryBlockStore()
  for (const [cid, bytes] of blocks) store.put(CID.parse(cid), bytes)
  const commit = parseCommit(await readBlock(store, root, 'commit'))
  if (commit.did !== did || !(await verifyCommitSignature(commit, signingKey))) {
    throw new LexiconResolutionError(`the commit is not signed by ${did}`)
  }
  const cid = await Mst.load(store, commit.data).get(key)
  if (!cid) throw new LexiconResolutionError(`no record ${key} in the repo of ${did}`)
  return decodeCbor(await readBlock(store, cid, key))
}
