/**
 * importRepo in the Worker: the CAR is read as it arrives (src/repo/car-reader.ts checks every
 * block's hash) and its blocks go to the account object in batches of about 2 MiB, one batch
 * on the wire while the next is read, so the Worker holds two batches at most, never the whole
 * CAR. The object stages them and, once the CAR has ended, checks the whole repo and switches
 * over (src/account/importer.ts). The header's roots and the commit block are checked here as
 * they pass, so a wrong repo is refused before most of it is sent.
 */
import type { ImportResult, StoredBlock } from '../account/types.ts'
import { accountStub, unwrapAccount } from '../bindings.ts'
import type { Config } from '../config.ts'
import type { CID } from '../data/cid.ts'
import { DomainError, RequestRefusedError, TooLargeError } from '../errors.ts'
import { parseDidDocument } from '../identity/index.ts'
import { identityServices } from '../identity/services.ts'
import { CarError, CarTooLargeError, readCarStream } from '../repo/car.ts'
import { type ParsedCommit, verifyCommitSignature } from '../repo/commit.ts'
import { parseImportedCommit, RepoImportError } from '../repo/import-check.ts'

export const CAR_MEDIA_TYPE = 'application/vnd.ipld.car'

/** Bytes per batch sent to the account object (well under the RPC message limit). */
const BATCH_BYTES = 2 * 1024 * 1024

export type ImportRepoInput = {
  did: string
  body: ReadableStream<Uint8Array> | null
  contentLength: number | null
  contentType: string | null
}

export async function importRepo(
  env: Env,
  config: Config,
  input: ImportRepoInput,
): Promise<ImportResult> {
  const limit = config.maxImportBytes
  const mediaType = (input.contentType ?? '').split(';')[0]?.trim().toLowerCase()
  if (mediaType !== CAR_MEDIA_TYPE) {
    throw new RequestRefusedError(
      `importRepo takes a CAR file: Content-Type must be ${CAR_MEDIA_TYPE}, not ${input.contentType ?? 'missing'}`,
    )
  }
  if (input.contentLength !== null && input.contentLength > limit) {
    throw new TooLargeError(`The CAR is larger than this server imports (${limit} bytes)`)
  }
  if (!input.body) throw new RequestRefusedError('The request has no body: send the repo CAR')
  const stub = accountStub(env, input.did)
  const token = await unwrapAccount(stub.beginImport())
  let streamed: Awaited<ReturnType<typeof streamBlocks>>
  try {
    streamed = await streamBlocks(input.body, limit, input.did, (blocks) =>
      unwrapAccount(stub.stageImport(token, blocks)),
    )
  } catch (err) {
    // What was staged is of no use now; the repo itself was never touched.
    await stub.abortImport(token).catch(() => {})
    throw err
  }
  const { root, commit } = streamed
  const signatureValid = await signatureMatchesDid(config, input.did, commit)
  const result = await unwrapAccount(
    stub.finishImport({ token, root: root.toString(), signatureValid }),
  )
  if (!result.indexed) {
    throw new DomainError(
      'upstream-failure',
      'UpstreamFailure',
      'The repo was imported, but its record index is not complete yet; it is being retried',
    )
  }
  return result
}

/** Reads the CAR, sending its blocks in batches; returns its root and the commit, if seen. */
async function streamBlocks(
  body: ReadableStream<Uint8Array>,
  limit: number,
  did: string,
  send: (blocks: StoredBlock[]) => Promise<unknown>,
): Promise<{ root: CID; commit: ParsedCommit | null }> {
  let inFlight: Promise<unknown> | null = null
  try {
    const car = await readCarStream(body, { maxCarSize: limit })
    if (car.roots.length !== 1) {
      await car.blocks.return()
      throw new RequestRefusedError(
        `A repo CAR has exactly one root, its commit; this one has ${car.roots.length}`,
      )
    }
    const root = car.roots[0]!
    let commit: ParsedCommit | null = null
    let batch: StoredBlock[] = []
    let bytes = 0
    const flush = async () => {
      if (inFlight) await inFlight
      inFlight = batch.length > 0 ? send(batch) : null
      batch = []
      bytes = 0
    }
    for await (const block of car.blocks) {
      if (block.cid.equals(root)) commit = parseImportedCommit(block.bytes, did)
      // A copy: a view would carry its whole chunk across RPC (structured clone sends the
      // entire underlying buffer), many times the block's size.
      batch.push({ cid: block.cid.toString(), bytes: block.bytes.slice() })
      bytes += block.bytes.length
      if (bytes >= BATCH_BYTES) await flush()
    }
    await flush()
    if (inFlight) await inFlight
    return { root, commit }
  } catch (err) {
    // A batch still on the wire must not fail unobserved.
    if (inFlight) await (inFlight as Promise<unknown>).catch(() => {})
    if (err instanceof CarTooLargeError) {
      throw new TooLargeError(`The CAR is larger than this server imports (${limit} bytes)`)
    }
    if (err instanceof CarError) throw new RequestRefusedError(`Invalid CAR: ${err.message}`)
    if (err instanceof RepoImportError) throw new RequestRefusedError(err.message)
    throw err
  }
}

/**
 * Whether the imported commit is signed by the key the DID document names now; null when it
 * cannot be told (no commit block seen, the document unreadable). Recorded, never required.
 */
async function signatureMatchesDid(
  config: Config,
  did: string,
  commit: ParsedCommit | null,
): Promise<boolean | null> {
  if (!commit) return null
  try {
    const doc = await identityServices(config).didResolver.resolve(did, { forceRefresh: true })
    const key = doc ? parseDidDocument(doc).signingKey : null
    if (!key) return null
    return await verifyCommitSignature(commit, key)
  } catch {
    return null
  }
}
