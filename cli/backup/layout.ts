/**
 * The backup folder, a layout any tool can read (README.md, "Back up an account"):
 *
 *   backup.json              { version, did, handle, pds, rev, commit, updatedAt }
 *   repo.car                 the whole repo at `rev` (CARv1, root = the signed commit)
 *   blobs/<cid>              every blob's bytes, named by its CID
 *   preferences.json         { "preferences": [...] } as app.bsky.actor.getPreferences gives them
 *   identity/did.json        the DID document at backup time
 *   identity/plc-audit.json  the DID's PLC operation log (did:plc only)
 *   follow.json              with --follow: { version, firehose, seq, rev, commitsApplied,
 *                            account, updatedAt }, the firehose cursor (the last event seq
 *                            whose effect is saved) and the account's status as last seen
 *
 * `backup.json` is written last: a folder without it holds no finished backup. Every file is
 * written beside its name and renamed, so a crash leaves the old or the new file, never half
 * of one. While following, each verified commit is saved as blobs, then `repo.car`, then
 * `backup.json`, then `follow.json`: the cursor never runs ahead of the saved repo, and an
 * event replayed after a crash whose rev the repo already has is skipped.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cidForRawBytes } from '../../src/data/cid.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import { CommandError } from '../client/command.ts'
import { type DidDocument, signingKey } from '../client/identity.ts'

export interface BackupMeta {
  version: 1
  did: string
  handle: string | null
  pds: string
  rev: string
  commit: string
  updatedAt: string
}

export interface FollowState {
  version: 1
  /** The subscribeRepos URL followed. */
  firehose: string
  /** The seq of the last event whose effect is saved; the resume cursor. */
  seq: number
  /** The repo rev saved at `seq`. */
  rev: string
  commitsApplied: number
  /** The account's status from the last `#account` event (null: none seen). */
  account: { active: boolean; status?: string } | null
  updatedAt: string
}

export class BackupFolder {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts)
  }

  get car(): string {
    return this.path('repo.car')
  }

  blob(cid: string): string {
    return this.path('blobs', cid)
  }

  async meta(): Promise<BackupMeta | null> {
    if (!existsSync(this.path('backup.json'))) return null
    return JSON.parse(await readFile(this.path('backup.json'), 'utf8')) as BackupMeta
  }

  async followState(): Promise<FollowState | null> {
    const file = this.path('follow.json')
    if (!existsSync(file)) return null
    return JSON.parse(await readFile(file, 'utf8')) as FollowState
  }

  async didDocument(): Promise<DidDocument> {
    return JSON.parse(await readFile(this.path('identity', 'did.json'), 'utf8')) as DidDocument
  }

  async preferences(): Promise<unknown[]> {
    const file = this.path('preferences.json')
    if (!existsSync(file)) return []
    return (JSON.parse(await readFile(file, 'utf8')) as { preferences: unknown[] }).preferences
  }

  async blobCids(): Promise<string[]> {
    if (!existsSync(this.path('blobs'))) return []
    return (await readdir(this.path('blobs'))).filter((name) => !name.endsWith('.part'))
  }

  /** Written beside and renamed: a crash never leaves half a file under the real name. */
  async write(file: string, bytes: Uint8Array | string): Promise<void> {
    await mkdir(join(file, '..'), { recursive: true })
    await writeFile(`${file}.part`, bytes)
    await rename(`${file}.part`, file)
  }

  async writeJson(file: string, value: unknown): Promise<void> {
    await this.write(file, `${JSON.stringify(value, null, 2)}\n`)
  }
}

export interface CheckedBackup {
  meta: BackupMeta
  car: Uint8Array
  /** `collection/rkey` → record CID. */
  records: Map<string, string>
  blobs: string[]
  preferences: unknown[]
  didDocument: DidDocument
}

/**
 * The whole folder checked offline: the repo verifies (every block present and hashing to its
 * CID, the MST complete, the commit signed by the key in the saved DID document) and every
 * blob hashes to its name. Throws a CommandError naming what is wrong.
 */
export async function checkBackup(folder: BackupFolder): Promise<CheckedBackup> {
  const meta = await folder.meta()
  if (!meta) throw new CommandError(`${folder.dir} holds no finished backup (no backup.json)`)
  const didDocument = await folder.didDocument()
  const key = signingKey(didDocument)
  if (didDocument.id !== meta.did || !key) {
    throw new CommandError(`${folder.path('identity', 'did.json')} is not ${meta.did}'s document`)
  }
  const car = new Uint8Array(await readFile(folder.car))
  let records: Map<string, string>
  try {
    const verified = await verifyRepoCar(car, { did: meta.did, signingKey: key })
    records = new Map(verified.records.map((r) => [`${r.collection}/${r.rkey}`, r.cid.toString()]))
  } catch (err) {
    throw new CommandError(`${folder.car} does not verify: ${(err as Error).message}`)
  }
  const blobs = await folder.blobCids()
  for (const cid of blobs) {
    const actual = (await cidForRawBytes(await readFile(folder.blob(cid)))).toString()
    if (actual !== cid) throw new CommandError(`blob ${cid} in ${folder.dir} is corrupted`)
  }
  return { meta, car, records, blobs, preferences: await folder.preferences(), didDocument }
}
