/**
 * Step 4: the blobs the new PDS says it is missing (`listMissingBlobs`), each streamed from the
 * old PDS's `getBlob` into the new one's `uploadBlob`, several at once, each retried with
 * backoff. Rounds repeat until nothing is missing or a round makes no progress.
 */

import { formatBytes, meter, type Progress, startProgress } from '../../client/progress.ts'
import { backoff, XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'

const CONCURRENCY = 4
const ATTEMPTS = 5

interface MissingBlob {
  cid: string
  recordUri: string
}

export interface BlobsOutcome {
  transferred: number
  bytes: number
  missingAtSource: string[]
}

export async function transferBlobs(ctx: Context): Promise<BlobsOutcome> {
  await ctx.oldSession()
  await ctx.newSession()
  const outcome: BlobsOutcome = { transferred: 0, bytes: 0, missingAtSource: [] }
  for (let round = 0; ; round++) {
    const missing = (await listMissing(ctx)).filter((b) => !outcome.missingAtSource.includes(b.cid))
    if (missing.length === 0) break
    if (round >= 3) {
      throw new MigrateError(
        `${missing.length} blobs are still missing on the new PDS after ${round} rounds ` +
          `(first: ${missing[0]!.cid}); run the command again to retry`,
      )
    }
    const progress = startProgress('blobs', { count: missing.length })
    const queue = [...missing]
    const worker = async (): Promise<void> => {
      for (let blob = queue.shift(); blob; blob = queue.shift()) {
        const size = await copyWithRetries(ctx, blob.cid, progress)
        if (size === null) outcome.missingAtSource.push(blob.cid)
        else {
          outcome.transferred++
          outcome.bytes += size
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    } finally {
      progress.finish()
    }
  }
  ctx.log(
    `Blobs: ${outcome.transferred} copied (${formatBytes(outcome.bytes)})` +
      (outcome.missingAtSource.length
        ? `, ${outcome.missingAtSource.length} missing on the old PDS too`
        : ''),
  )
  return outcome
}

async function listMissing(ctx: Context): Promise<MissingBlob[]> {
  const found: MissingBlob[] = []
  let cursor: string | undefined
  do {
    const page = await ctx.next.query<{ blobs: MissingBlob[]; cursor?: string }>(
      'com.atproto.repo.listMissingBlobs',
      { params: { limit: 1000, cursor } },
    )
    found.push(...page.blobs)
    cursor = page.blobs.length > 0 ? page.cursor : undefined
  } while (cursor)
  return found
}

/** The blob's size once copied, or null when the old PDS does not have it either. */
async function copyWithRetries(
  ctx: Context,
  cid: string,
  progress: Progress,
): Promise<number | null> {
  for (let attempt = 1; ; attempt++) {
    let sent = 0
    try {
      const size = await copyBlob(ctx, cid, (n) => {
        sent += n
        progress.add(0, n)
      })
      progress.add(1, 0)
      return size
    } catch (err) {
      progress.add(0, -sent)
      if (
        err instanceof XrpcError &&
        err.error === 'BlobNotFound' &&
        err.method.endsWith('getBlob')
      ) {
        progress.add(1, 0)
        return null
      }
      const permanent = err instanceof XrpcError && err.status < 500 && err.status !== 429
      if (permanent || attempt >= ATTEMPTS) {
        throw new MigrateError(`blob ${cid} could not be copied: ${(err as Error).message}`)
      }
      await backoff(attempt - 1)
    }
  }
}

async function copyBlob(ctx: Context, cid: string, onBytes: (n: number) => void): Promise<number> {
  const res = await ctx.old.stream('com.atproto.sync.getBlob', {
    params: { did: ctx.state.did, cid },
  })
  const length = res.headers.get('content-length')
  const type = res.headers.get('content-type') ?? 'application/octet-stream'
  const out = await ctx.next.procedure<{ blob: { ref: { $link: string }; size: number } }>(
    'com.atproto.repo.uploadBlob',
    {
      bodyFactory: async () => ({
        body: meter(res.body!, onBytes),
        type,
        ...(length ? { length: Number(length) } : {}),
      }),
    },
  )
  if (out.blob.ref.$link !== cid) {
    throw new MigrateError(`blob ${cid} arrived as ${out.blob.ref.$link}: its bytes changed`)
  }
  return out.blob.size
}
