/**
 * Step 6, just before the identity moves: anything written on the old PDS since the export
 * (the account is still live there) is brought over.
 *
 * @NOTE `importRepo` takes a *full* CAR. Our PDS treats the CAR as the whole repo (records not
 * in it are gone) and refuses one whose MST is incomplete; the reference PDS layers a partial
 * CAR over what it holds. A `getRepo?since=` diff is only the blocks added after that rev, so
 * sending it alone would be refused by one server and is server-specific on the other. So the
 * diff is only what we *download*: it is merged with the earlier export in the state folder,
 * the full CAR of the new root is rebuilt locally (it fails if a block is missing, and we then
 * download the whole repo), and that full CAR is imported again, which every PDS replaces
 * idempotently while the account is deactivated.
 */
import { unlink } from 'node:fs/promises'
import { listBlobCids } from '../../client/blob-list.ts'
import type { Context } from '../context.ts'
import { downloadRepo, mergeDiff, snapshotOf } from '../repo-car.ts'
import { transferBlobs } from './blobs.ts'
import { importRepo } from './import-repo.ts'
import { copyPreferences } from './preferences.ts'

export async function catchUp(ctx: Context): Promise<void> {
  const exported = ctx.state.exported!
  await ctx.oldSession()
  const latest = await ctx.old.query<{ cid: string; rev: string }>(
    'com.atproto.sync.getLatestCommit',
    { params: { did: ctx.state.did } },
  )
  if (latest.cid === exported.commit) {
    ctx.log('The old repo has not changed since the export.')
  } else {
    ctx.log(`The old repo changed since the export (rev ${exported.rev} → ${latest.rev}).`)
    const diffPath = `${ctx.store.carPath}.since`
    await downloadRepo(ctx, diffPath, 'repo changes', exported.rev)
    let bytes: number
    try {
      bytes = await mergeDiff(ctx.store.carPath, diffPath)
    } catch (err) {
      ctx.log(`The changes do not complete the earlier export (${(err as Error).message}).`)
      bytes = await downloadRepo(ctx, ctx.store.carPath, 'repo download')
    } finally {
      await unlink(diffPath).catch(() => {})
    }
    ctx.state.exported = await snapshotOf(ctx.store.carPath, bytes)
    ctx.state.blobCids = await listBlobCids(ctx.old, ctx.state.did)
    ctx.store.save(ctx.state)
    await importRepo(ctx)
    const blobs = await transferBlobs(ctx)
    const before = ctx.state.blobs
    ctx.state.blobs = {
      transferred: (before?.transferred ?? 0) + blobs.transferred,
      bytes: (before?.bytes ?? 0) + blobs.bytes,
      missingAtSource: [...(before?.missingAtSource ?? []), ...blobs.missingAtSource],
    }
  }
  // Preferences may have changed too; copying them again is cheap.
  await copyPreferences(ctx)
}
