/**
 * One backup run. The first fetches everything; later ones ask only for what changed since
 * the saved rev (`getRepo?since=`, merged into the saved CAR, and `listBlobs?since=`), and
 * fall back to the whole repo when the merge cannot complete it. The merged repo is verified
 * like a whole one before it replaces the saved one. The follower (follow.ts) uses the same
 * steps when a commit on the firehose cannot be applied.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { cidForRawBytes } from '../../src/data/cid.ts'
import { PlcClient } from '../../src/identity/plc-client.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import type { Account } from '../client/account.ts'
import { listBlobCids } from '../client/blob-list.ts'
import { CommandError, log } from '../client/command.ts'
import { type DidDocument, resolveDidDocument, signingKey } from '../client/identity.ts'
import { LocalRepo } from '../client/local-repo.ts'
import { formatBytes, startProgress } from '../client/progress.ts'
import type { BackupFolder, BackupMeta } from './layout.ts'

export interface BackupResult {
  repo: LocalRepo
  didDocument: DidDocument
  signingKey: string
}

export async function runBackup(
  account: Account,
  folder: BackupFolder,
  plcUrl: string,
): Promise<BackupResult> {
  const { did, client } = account
  const previous = await folder.meta()
  if (previous && previous.did !== did) {
    throw new CommandError(`${folder.dir} holds a backup of ${previous.did}, not ${did}`)
  }
  const { didDocument, key } = await saveIdentity(folder, did, plcUrl)

  const since = previous && existsSync(folder.car) ? previous.rev : undefined
  const car = (since ? await mergedRepo(account, folder, since) : null) ?? (await getRepo(account))
  try {
    await verifyRepoCar(car, { did, signingKey: key })
  } catch (err) {
    throw new CommandError(
      `the repo from ${account.pds} does not verify: ${(err as Error).message}`,
    )
  }
  const repo = await LocalRepo.fromCar(car)
  await folder.write(folder.car, car)

  const listed = await listBlobCids(client, did, since)
  const fetched = await fetchBlobs(account, folder, listed)
  const preferences = await savePreferences(account, folder)
  await writeMeta(folder, account, repo, didDocument)
  log(
    `Backed up ${did} at rev ${repo.rev} into ${folder.dir}: repo ${formatBytes(car.byteLength)}` +
      `${since ? ` (changes since ${since})` : ''}, ${fetched} new blobs, ` +
      `${preferences} preferences.`,
  )
  return { repo, didDocument, signingKey: key }
}

/** The DID document (and, for did:plc, the PLC audit log), saved; with its signing key. */
export async function saveIdentity(
  folder: BackupFolder,
  did: string,
  plcUrl: string,
): Promise<{ didDocument: DidDocument; key: string }> {
  const didDocument = await resolveDidDocument(did, plcUrl)
  const key = signingKey(didDocument)
  if (!key) throw new CommandError(`the DID document of ${did} names no signing key`)
  await folder.writeJson(folder.path('identity', 'did.json'), didDocument)
  if (did.startsWith('did:plc:')) {
    const audit = await new PlcClient(plcUrl).getAuditLog(did)
    await folder.writeJson(folder.path('identity', 'plc-audit.json'), audit)
  }
  return { didDocument, key }
}

/** Saves the account's preferences; returns how many there are. */
export async function savePreferences(account: Account, folder: BackupFolder): Promise<number> {
  const { preferences } = await account.client.query<{ preferences: unknown[] }>(
    'app.bsky.actor.getPreferences',
  )
  await folder.writeJson(folder.path('preferences.json'), { preferences })
  return preferences.length
}

/** Downloads the blobs of `cids` the folder lacks, each checked against its CID. */
export async function fetchBlobs(
  account: Account,
  folder: BackupFolder,
  cids: Iterable<string>,
): Promise<number> {
  const missing = [...new Set(cids)].filter((cid) => !existsSync(folder.blob(cid)))
  if (missing.length === 0) return 0
  const progress = startProgress('blobs', { count: missing.length })
  for (const cid of missing) {
    const res = await account.client.stream('com.atproto.sync.getBlob', {
      params: { did: account.did, cid },
    })
    const bytes = new Uint8Array(await res.arrayBuffer())
    if ((await cidForRawBytes(bytes)).toString() !== cid) {
      throw new CommandError(`the PDS served other bytes for blob ${cid}`)
    }
    await folder.write(folder.blob(cid), bytes)
    progress.add(1, bytes.byteLength)
  }
  progress.finish()
  return missing.length
}

export async function writeMeta(
  folder: BackupFolder,
  account: Account,
  repo: LocalRepo,
  didDocument: DidDocument,
): Promise<void> {
  const meta: BackupMeta = {
    version: 1,
    did: account.did,
    handle: didDocument.alsoKnownAs?.find((a) => a.startsWith('at://'))?.slice(5) ?? null,
    pds: account.pds,
    rev: repo.rev,
    commit: repo.commitCid.toString(),
    updatedAt: new Date().toISOString(),
  }
  await folder.writeJson(folder.path('backup.json'), meta)
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
    return await (await LocalRepo.merged(await readFile(folder.car), diff)).toCar()
  } catch {
    log('The changes did not complete the saved repo: fetching the whole repo.')
    return null
  }
}
