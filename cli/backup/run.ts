/**
 * One backup run. The first fetches everything; later ones ask only for what changed since
 * the saved rev (`getRepo?since=`, merged into the saved CAR, and `listBlobs?since=`), and
 * fall back to the whole repo when the merge cannot complete it. The merged repo is verified
 * like a whole one before it replaces the saved one.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { readCarWithRoot, verifyRepoCar } from '@atproto/repo'
import { cidForRawBytes } from '../../src/data/cid.ts'
import { PlcClient } from '../../src/identity/plc-client.ts'
import type { Account } from '../client/account.ts'
import { CommandError, log } from '../client/command.ts'
import { listBlobCids } from '../migrate/blob-list.ts'
import { resolveDidDocument, signingKey } from '../migrate/identity.ts'
import { formatBytes, startProgress } from '../migrate/progress.ts'
import { mergeRepoCars } from '../migrate/repo-car.ts'
import type { BackupFolder, BackupMeta } from './layout.ts'

export async function runBackup(account: Account, folder: BackupFolder, plcUrl: string) {
  const { did, client } = account
  const previous = await folder.meta()
  if (previous && previous.did !== did) {
    throw new CommandError(`${folder.dir} holds a backup of ${previous.did}, not ${did}`)
  }
  const didDocument = await resolveDidDocument(did, plcUrl)
  const key = signingKey(didDocument)
  if (!key) throw new CommandError(`the DID document of ${did} names no signing key`)

  const since = previous && existsSync(folder.car) ? previous.rev : undefined
  const car = (since ? await mergedRepo(account, folder, since) : null) ?? (await getRepo(account))
  let rev: string
  let commit: string
  try {
    const verified = await verifyRepoCar(car, did, key)
    rev = verified.commit.rev
    commit = (await readCarWithRoot(car)).root.toString()
  } catch (err) {
    throw new CommandError(
      `the repo from ${account.pds} does not verify: ${(err as Error).message}`,
    )
  }
  await folder.write(folder.car, car)

  const listed = await listBlobCids(client, did, since)
  const missing = listed.filter((cid) => !existsSync(folder.blob(cid)))
  const progress = startProgress('blobs', { count: missing.length })
  for (const cid of missing) {
    const res = await client.stream('com.atproto.sync.getBlob', { params: { did, cid } })
    const bytes = new Uint8Array(await res.arrayBuffer())
    if ((await cidForRawBytes(bytes)).toString() !== cid) {
      throw new CommandError(`the PDS served other bytes for blob ${cid}`)
    }
    await folder.write(folder.blob(cid), bytes)
    progress.add(1, bytes.byteLength)
  }
  progress.finish()

  const { preferences } = await client.query<{ preferences: unknown[] }>(
    'app.bsky.actor.getPreferences',
  )
  await folder.writeJson(folder.path('preferences.json'), { preferences })
  await folder.writeJson(folder.path('identity', 'did.json'), didDocument)
  if (did.startsWith('did:plc:')) {
    const audit = await new PlcClient(plcUrl).getAuditLog(did)
    await folder.writeJson(folder.path('identity', 'plc-audit.json'), audit)
  }
  const meta: BackupMeta = {
    version: 1,
    did,
    handle: didDocument.alsoKnownAs?.find((a) => a.startsWith('at://'))?.slice(5) ?? null,
    pds: account.pds,
    rev,
    commit,
    updatedAt: new Date().toISOString(),
  }
  await folder.writeJson(folder.path('backup.json'), meta)
  log(
    `Backed up ${did} at rev ${rev} into ${folder.dir}: repo ${formatBytes(car.byteLength)}` +
      `${since ? ` (changes since ${since})` : ''}, ${missing.length} new blobs, ` +
      `${preferences.length} preferences.`,
  )
}

async function getRepo(account: Account, since?: string): Promise<Uint8Array> {
  const res = await account.client.stream('com.atproto.sync.getRepo', {
    params: { did: account.did, since },
  })
  return new Uint8Array(await res.arrayBuffer())
}

/** The saved repo plus the blocks changed since `since`; null when that does not make a whole. */
async function mergedRepo(
  account: Account,
  folder: BackupFolder,
  since: string,
): Promise<Uint8Array | null> {
  const diff = await getRepo(account, since)
  try {
    return await mergeRepoCars(await readFile(folder.car), diff)
  } catch {
    log('The changes did not complete the saved repo: fetching the whole repo.')
    return null
  }
}
