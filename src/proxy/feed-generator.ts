/**
 * The feed generator behind a feed URI (`at://<creator>/app.bsky.feed.generator/<rkey>`), for
 * getFeed: its record (from our record index when the creator is ours, else from the creator's
 * PDS), the service DID the record names, and that DID's `#bsky_fg` service.
 */
import type { Config } from '../config.ts'
import { getAccountByDid, getAccountByHandle } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { getIndexedRecord } from '../db/record-reads.ts'
import { type DidDocument, getServiceEndpoint } from '../identity/did-document.ts'
import { DidResolutionError } from '../identity/errors.ts'
import { type FetchFn, fetchWithTimeout, globalFetch, readTextLimited } from '../identity/http.ts'
import { isServiceUrlAllowed } from '../identity/service-url.ts'
import { identityServices } from '../identity/services.ts'
import { isValidDid } from '../syntax/did.ts'
import { AtUri } from '../syntax/index.ts'
import { InvalidRequestError, UpstreamFailureError } from '../xrpc/errors.ts'

export const FEED_GENERATOR_COLLECTION = 'app.bsky.feed.generator'
export const FEED_GENERATOR_SERVICE_ID = 'bsky_fg'
/** A generator record is a few hundred bytes; refuse to read more than this from a PDS. */
const MAX_RECORD_RESPONSE_BYTES = 256 * 1024
const RECORD_FETCH_TIMEOUT_MS = 5_000

export interface FeedGenerator {
  /** The generator's service DID as its record names it: the getFeedSkeleton `aud`. */
  did: string
  /** Its `#bsky_fg` endpoint. */
  endpoint: string
}

export interface FeedGeneratorDeps {
  db: Db
  config: Config
  fetch?: FetchFn
}

export async function resolveFeedGenerator(
  feedUri: string,
  deps: FeedGeneratorDeps,
): Promise<FeedGenerator> {
  const uri = parseFeedUri(feedUri)
  const creator = await creatorDid(uri.host, deps)
  const record = await generatorRecord(creator, uri.rkey, deps)
  const did = typeof record?.did === 'string' ? record.did : null
  if (!did || !isValidDid(did)) throw unknownFeed(`${feedUri} names no feed generator DID`)
  let doc: DidDocument | null
  try {
    doc = await identityServices(deps.config).didResolver.resolve(did)
  } catch (err) {
    if (err instanceof DidResolutionError) {
      throw new UpstreamFailureError(`could not resolve the feed generator ${did}: ${err.message}`)
    }
    throw err
  }
  const endpoint = doc && getServiceEndpoint(doc, `#${FEED_GENERATOR_SERVICE_ID}`)
  if (!endpoint) throw unknownFeed(`the feed generator ${did} has no #bsky_fg service`)
  return { did, endpoint }
}

function parseFeedUri(feedUri: string): { host: string; rkey: string } {
  let uri: AtUri
  try {
    uri = AtUri.parse(feedUri)
  } catch {
    throw unknownFeed(`not a feed URI: ${feedUri}`)
  }
  if (uri.collection !== FEED_GENERATOR_COLLECTION || !uri.rkey) {
    throw unknownFeed(`not a feed generator URI: ${feedUri}`)
  }
  return { host: uri.host, rkey: uri.rkey }
}

async function creatorDid(host: string, deps: FeedGeneratorDeps): Promise<string> {
  if (host.startsWith('did:')) return host
  const local = await getAccountByHandle(deps.db, host)
  if (local) return local.did
  const did = await identityServices(deps.config).handleResolver.resolve(host)
  if (!did) throw unknownFeed(`the feed's creator ${host} does not resolve`)
  return did
}

async function generatorRecord(
  creator: string,
  rkey: string,
  deps: FeedGeneratorDeps,
): Promise<Record<string, unknown> | null> {
  const local = await getAccountByDid(deps.db, creator)
  if (local) {
    const row = await getIndexedRecord(deps.db, creator, FEED_GENERATOR_COLLECTION, rkey)
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : null
  }
  let pds: string | null
  try {
    pds = (await identityServices(deps.config).didResolver.resolveAtprotoData(creator)).pdsEndpoint
  } catch (err) {
    if (err instanceof DidResolutionError)
      throw unknownFeed(`the feed's creator ${creator}: ${err.message}`)
    throw err
  }
  if (!pds) throw unknownFeed(`the feed's creator ${creator} has no PDS`)
  if (!isServiceUrlAllowed(pds, deps.config)) {
    throw unknownFeed(`the feed's creator ${creator} names a PDS this server may not contact`)
  }
  const url = new URL('/xrpc/com.atproto.repo.getRecord', pds)
  url.searchParams.set('repo', creator)
  url.searchParams.set('collection', FEED_GENERATOR_COLLECTION)
  url.searchParams.set('rkey', rkey)
  let text: string
  let status: number
  try {
    const res = await fetchWithTimeout(
      deps.fetch ?? globalFetch,
      url.toString(),
      { headers: { accept: 'application/json' } },
      RECORD_FETCH_TIMEOUT_MS,
    )
    status = res.status
    text = await readTextLimited(
      res,
      MAX_RECORD_RESPONSE_BYTES,
      url.toString(),
      RECORD_FETCH_TIMEOUT_MS,
    )
  } catch {
    throw recordUnavailable()
  }
  if (status === 400 || status === 404) return null
  // What another host answered is not repeated to the caller (this would map its network).
  if (status !== 200) throw recordUnavailable()
  try {
    const body = JSON.parse(text) as { value?: unknown }
    const value = body.value
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null
  } catch {
    throw recordUnavailable()
  }
}

function recordUnavailable(): UpstreamFailureError {
  return new UpstreamFailureError(
    "could not fetch the feed generator record from its creator's PDS",
  )
}

function unknownFeed(message: string): InvalidRequestError {
  return new InvalidRequestError(message, 'UnknownFeed')
}
