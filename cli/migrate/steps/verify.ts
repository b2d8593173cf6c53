/**
 * Step 11: the new PDS holds what the old one had. Records: the new repo, fetched whole and
 * verified against the signing key in the PLC document, has exactly the records and CIDs of
 * the last export. Blobs: none missing, every one the old PDS listed is listed. Preferences:
 * the same (by hash). Identity: the PLC document names the new PDS and its key.
 */
import { readFile } from 'node:fs/promises'
import { verifyRepoCar } from '../../../src/repo/verify.ts'
import { listBlobCids } from '../../client/blob-list.ts'
import { pdsEndpoint, resolveDidDocument, signingKey } from '../../client/identity.ts'
import { formatBytes } from '../../client/progress.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'
import { recordMap, resignedIfNeeded } from '../served-repo.ts'
import { preferencesHash } from './preferences.ts'

export async function verifyMigration(ctx: Context): Promise<void> {
  const { state } = ctx
  const problems: string[] = []
  await ctx.newSession()

  const doc = await resolveDidDocument(state.did, ctx.args.plcUrl)
  const key = signingKey(doc)
  const endpoint = pdsEndpoint(doc)
  const recommended = await ctx.next.query<{ verificationMethods?: { atproto?: string } }>(
    'com.atproto.identity.getRecommendedDidCredentials',
  )
  if (endpoint !== state.newPds) {
    problems.push(`the DID document names ${endpoint} as its PDS, not ${state.newPds}`)
  }
  if (!key || key !== recommended.verificationMethods?.atproto) {
    problems.push(`the DID document's signing key ${key} is not the new PDS's key`)
  }

  const repo = await resignedIfNeeded(ctx.next, state.did, key)
  if (repo.resigned) {
    ctx.summary.push(
      'the new PDS still served the commit signed by the old PDS: an empty commit re-signed it',
    )
  }
  if (!repo.signed) problems.push("the new repo's commit does not verify with the DID's key")
  const old = await verifyRepoCar(await readFile(ctx.store.carPath))
  const oldRecords = recordMap(old.records)
  const differing = [...oldRecords].filter(([path, cid]) => repo.records.get(path) !== cid)
  const extra = [...repo.records.keys()].filter((path) => !oldRecords.has(path))
  if (differing.length > 0 || extra.length > 0) {
    problems.push(
      `records differ: ${differing.length} missing or changed (e.g. ${differing[0]?.[0]}), ` +
        `${extra.length} extra`,
    )
  }

  const missing = await ctx.next.query<{ blobs: unknown[] }>('com.atproto.repo.listMissingBlobs', {
    params: { limit: 10 },
  })
  const listed = new Set(await listBlobCids(ctx.next, state.did))
  const absent = (state.blobCids ?? []).filter(
    (cid) => !listed.has(cid) && !state.blobs?.missingAtSource.includes(cid),
  )
  if (missing.blobs.length > 0 || absent.length > 0) {
    problems.push(`blobs missing on the new PDS: ${Math.max(missing.blobs.length, absent.length)}`)
  }

  const { preferences } = await ctx.next.query<{ preferences: { $type?: string }[] }>(
    'app.bsky.actor.getPreferences',
  )
  if (state.preferences && preferencesHash(preferences) !== state.preferences.sha256) {
    problems.push('the preferences on the new PDS differ from the old ones')
  }

  if (problems.length > 0) {
    throw new MigrateError(`verification failed:\n  - ${problems.join('\n  - ')}`)
  }
  ctx.summary.push(
    `verified: ${oldRecords.size} records with equal CIDs (repo ${formatBytes(repo.bytes)}, ` +
      `signed with the key in the PLC document), ${listed.size} blobs present, ` +
      `${preferences.length} preferences equal, DID document → ${endpoint}`,
  )
}
