/**
 * Step 3: the exported CAR, streamed from the state folder to the new PDS's `importRepo`.
 * Always a full CAR: see catch-up.ts for why a re-import never sends a `since` diff.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { meter, startProgress } from '../../client/progress.ts'
import { XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'

export async function importRepo(ctx: Context): Promise<void> {
  const path = ctx.store.carPath
  const { size } = await stat(path)
  await ctx.newSession()
  const progress = startProgress('repo upload', { bytes: size })
  try {
    await ctx.next.procedure('com.atproto.repo.importRepo', {
      // Not retried here: a failed upload is resumed by running the command again.
      bodyFactory: async () => {
        const body = meter(
          Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
          (n) => progress.add(0, n),
        )
        return { body, type: 'application/vnd.ipld.car', length: size }
      },
    })
  } catch (err) {
    if (err instanceof XrpcError && err.status < 500 && err.status !== 429) {
      throw new MigrateError(`the new PDS refused the repo: ${err.error}: ${err.message}`)
    }
    throw err
  } finally {
    progress.finish()
  }
  ctx.state.imported = ctx.state.exported?.rev
  ctx.log(`Imported the repo (rev ${ctx.state.imported}) into the new PDS.`)
}
