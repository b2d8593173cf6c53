/** `--dry-run`: sizes and the plan, read from both PDSes; nothing is written anywhere. */

import { listBlobCids } from '../client/blob-list.ts'
import { formatBytes } from '../client/progress.ts'
import { XrpcError } from '../client/xrpc.ts'
import type { Context } from './context.ts'
import { STEPS, type Step } from './state.ts'
import { copiable } from './steps/preferences.ts'

const PLAN: Record<Step, string> = {
  'create-account': 'create the account on the new PDS (deactivated), vouched for by the old one',
  'export-repo': 'download the repo from the old PDS into the state folder',
  'import-repo': 'upload the repo to the new PDS (importRepo)',
  blobs: 'copy the blobs the new PDS is missing',
  preferences: 'copy the preferences',
  'catch-up': 'bring over anything written on the old PDS meanwhile',
  'plc-sign': 'ask the old PDS for a PLC token (you will be asked for it) and to sign the move',
  'plc-submit': 'the new PDS submits the PLC operation: the DID points at it',
  activate: 'activate the account on the new PDS',
  'deactivate-old': 'deactivate the account on the old PDS',
  verify: 'check records, CIDs, blobs, preferences and the DID document',
}

export async function dryRun(ctx: Context): Promise<void> {
  const { state } = ctx
  await ctx.oldSession()
  const repo = await ctx.old.stream('com.atproto.sync.getRepo', { params: { did: state.did } })
  let repoBytes = 0
  const reader = repo.body!.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read())
    repoBytes += r.value.byteLength
  const cids = await listBlobCids(ctx.old, state.did)
  let blobBytes = 0
  const queue = [...cids]
  const worker = async (): Promise<void> => {
    for (let cid = queue.shift(); cid; cid = queue.shift()) {
      const res = await ctx.old.stream('com.atproto.sync.getBlob', {
        params: { did: state.did, cid },
      })
      blobBytes += Number(res.headers.get('content-length') ?? 0)
      await res.body?.cancel()
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  const { preferences: all } = await ctx.old.query<{ preferences: { $type?: string }[] }>(
    'app.bsky.actor.getPreferences',
  )
  const preferences = copiable(all)
  const destination = await accountAtDestination(ctx)

  ctx.log(`Dry run: ${state.did} (${state.handle})`)
  ctx.log(`  from ${state.oldPds}  to ${state.newPds} (${state.newPdsDid})`)
  ctx.log(`  repo: ${formatBytes(repoBytes)}`)
  ctx.log(`  blobs: ${cids.length}, ${formatBytes(blobBytes)}`)
  ctx.log(`  preferences: ${preferences.length}`)
  ctx.log(`  on the new PDS: ${destination}`)
  ctx.log('Plan:')
  for (const [i, step] of STEPS.entries()) {
    const done = state.finished[step] ? ' (done)' : ''
    ctx.log(`  ${String(i + 1).padStart(2)}. ${PLAN[step]}${done}`)
  }
  ctx.log('Nothing was changed.')
}

async function accountAtDestination(ctx: Context): Promise<string> {
  try {
    const status = await ctx.next.query<{ active: boolean; status?: string }>(
      'com.atproto.sync.getRepoStatus',
      { params: { did: ctx.state.did }, auth: 'none' },
    )
    return status.active
      ? 'the account is already active there'
      : `the account exists there (${status.status ?? 'inactive'}); it will be signed in to`
  } catch (err) {
    if (err instanceof XrpcError && err.error === 'RepoNotFound') return 'no account yet'
    throw err
  }
}
