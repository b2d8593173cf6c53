/**
 * D1 read replication for one XRPC request, through D1's Sessions API.
 *
 * A session's reads go to any copy of the database at least as fresh as its bookmark, and a
 * bookmark names a point in the primary's history. The rules (docs/design/d1-replicas.md):
 * - the client's bookmark (`x-d1-bookmark`, from an earlier response of ours) starts the
 *   session there, so it reads its own writes on the nearest replica that has them;
 * - without one, a caller that presents credentials (a possible writer) and every procedure
 *   start on the primary: a client that knows nothing of bookmarks still reads its own writes,
 *   and procedures check swaps, passwords and tokens against the latest state;
 * - an anonymous query starts on the nearest replica, whatever its lag;
 * - auth verifiers always read the primary (`primary`): a revoked app password or a takedown
 *   bites at once, whatever bookmark the caller sends.
 * The response carries the latest bookmark seen (`latest`), the account object's index write
 * included (the write path puts it in the handler's headers).
 */
import { RequestRefusedError } from '../errors.ts'
import { type Db, sessionDb } from './index.ts'

export const BOOKMARK_HEADER = 'x-d1-bookmark'

/**
 * D1 bookmarks are dash-separated fixed-width hex fields (`00000085-0000024c-00004c6d-<32
 * hex>`), so later ones sort later as strings. Checked loosely, so a longer field in a future
 * format still passes. workerd's local D1 takes any string, and what production D1 does with
 * one it cannot read is not documented: refused here instead, with a clear message.
 */
const BOOKMARK = /^[0-9a-f]{1,64}(?:-[0-9a-f]{1,64}){1,7}$/i
const MAX_BOOKMARK_LENGTH = 256

export interface RequestSessions {
  /** The handlers' D1, on the session the rules above choose. */
  readonly db: Db
  /**
   * On a session that starts on the primary: credential checks and rate-limit counters. Its
   * bookmark is not sent back: those rows are not the client's data, and a later bookmark
   * would only make the client's next read wait for a replica to catch up.
   */
  readonly primary: Db
  /** The latest of the client's bookmark, the handlers' session's and `others`; null if none. */
  latest(...others: (string | null | undefined)[]): string | null
}

/** Opens the request's sessions; a malformed `x-d1-bookmark` is refused (400). */
export function openRequestSessions(d1: D1Database, request: Request): RequestSessions {
  const bookmark = readBookmark(request)
  const first =
    request.method === 'POST'
      ? 'first-primary'
      : (bookmark ??
        (request.headers.has('authorization') ? 'first-primary' : 'first-unconstrained'))
  const reads = d1.withSession(first)
  const db = sessionDb(reads)
  // Built when first asked for: a session and its drizzle objects cost ~0.1 ms, and a read
  // that carries no credentials never needs one.
  let primary: Db | null = null
  const primaryDb = (): Db => {
    primary ??= sessionDb(d1.withSession('first-primary'))
    return primary
  }
  if (first !== 'first-primary') primaryAfterMiss.set(db, primaryDb)
  return {
    db,
    get primary() {
      return primaryDb()
    },
    latest: (...others) => latestBookmark([bookmark, reads.getBookmark(), ...others]),
  }
}

/** The primary of a request whose reads may come from a lagging replica. */
const primaryAfterMiss = new WeakMap<Db, () => Db>()

/**
 * `read` on `db`, asked again of the primary when the answer is a miss (`found` false, or a
 * throw: RepoNotFound, say) and `db` may be a lagging replica. For reads whose miss others act
 * on: an AppView fetches a record or blob as soon as the firehose announces it, which can be
 * before the nearest replica has it. A hit costs nothing more; a miss, one primary query.
 */
export async function readOrAskPrimary<T>(
  db: Db,
  read: (db: Db) => Promise<T>,
  found: (value: T) => boolean,
): Promise<T> {
  const primary = primaryAfterMiss.get(db)
  if (!primary) return read(db)
  try {
    const value = await read(db)
    if (found(value)) return value
  } catch {
    // The primary's answer, thrown or not, is the one that counts.
  }
  return read(primary())
}

/** The client's bookmark, or null; InvalidRequest when the header is not a bookmark. */
export function readBookmark(request: Request): string | null {
  const value = request.headers.get(BOOKMARK_HEADER)?.trim()
  if (!value) return null
  if (value.length > MAX_BOOKMARK_LENGTH || !BOOKMARK.test(value)) {
    throw new RequestRefusedError(
      `The ${BOOKMARK_HEADER} header is not a D1 bookmark: send back the value of an earlier response, or leave it out`,
    )
  }
  return value.toLowerCase()
}

export function latestBookmark(bookmarks: (string | null | undefined)[]): string | null {
  let latest: string | null = null
  for (const bookmark of bookmarks) {
    if (bookmark && (latest === null || bookmark > latest)) latest = bookmark
  }
  return latest
}

/**
 * The response with the request's latest bookmark in `x-d1-bookmark`, counting one a handler
 * put there (a write's, from the account object's index batch).
 */
export function withBookmark(response: Response, sessions: RequestSessions): Response {
  const latest = sessions.latest(response.headers.get(BOOKMARK_HEADER))
  if (latest === null) return response
  try {
    response.headers.set(BOOKMARK_HEADER, latest)
    return response
  } catch {
    // Immutable headers (a proxied upstream's response): a copy takes the header.
    const copy = new Response(response.body, response)
    copy.headers.set(BOOKMARK_HEADER, latest)
    return copy
  }
}
