/**
 * The backup folder, a layout any tool can read (README.md, "Back up an account"):
 *
 *   backup.json              { version, did, handle, pds, rev, commit, updatedAt }
 *   repo.car                 the whole repo at `rev` (CARv1, root = the signed commit)
 *   blobs/<cid>              every blob's bytes, named by its CID
 *   preferences.json         { "preferences": [...] } as app.bsky.actor.getPreferences gives them
 *   identity/did.json        the DID document at backup time
 *   identity/plc-audit.json  the DID's PLC operation log (did:plc only)
 *
 * `backup.json` is written last: a folder without it holds no finished backup.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { verifyRepoCar } from '@atproto/repo'
import { cidForRawBytes } from '../../src/data/cid.ts'
import { CommandError } from '../client/command.ts'
import { type DidDocument, signingKey } from '../migrate/identity.ts'

export interface BackupMeta {
  version: 1
  did: string
  handle: string | null
  pds: string
  rev: string
  commit: string
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
    const verified = await verifyRepoCar(car, meta.did, key)
    records = new Map(verified.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]))
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
