/**
 * Step 2: the old repo, downloaded whole (`getRepo`) into the state folder, and the list of
 * its blobs (`listBlobs`), which the verification checks against the new PDS.
 */
import { listBlobCids } from '../../client/blob-list.ts'
import type { Context } from '../context.ts'
import { downloadRepo, snapshotOf } from '../repo-car.ts'

export async function exportRepo(ctx: Context): Promise<void> {
  const bytes = await downloadRepo(ctx, ctx.store.carPath, 'repo download')
  ctx.state.exported = await snapshotOf(ctx.store.carPath, bytes)
  ctx.state.blobCids = await listBlobCids(ctx.old, ctx.state.did)
  ctx.log(
    `Exported the repo at rev ${ctx.state.exported.rev}; it references ${ctx.state.blobCids.length} blobs.`,
  )
}
