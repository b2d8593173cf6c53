/**
 * What a migration has done so far, in a folder of its own (`<state-dir>/<did>/`), so that a
 * run that crashed or was interrupted continues from the last finished step. It holds no
 * password and no session token: each run signs in again. It does hold the exported repo
 * (public data) and, between signing and submitting, the signed PLC operation (see plc.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The steps in the order they run; each is recorded once finished. */
export const STEPS = [
  'create-account',
  'export-repo',
  'import-repo',
  'blobs',
  'preferences',
  'catch-up',
  'plc-sign',
  'plc-submit',
  'activate',
  'deactivate-old',
  'verify',
] as const

export type Step = (typeof STEPS)[number]

export interface RepoSnapshot {
  /** The commit's rev and CID as exported from the old PDS. */
  rev: string
  commit: string
  bytes: number
}

export interface MigrationState {
  version: 1
  did: string
  oldPds: string
  newPds: string
  newPdsDid: string
  handle: string
  startedAt: string
  finished: Partial<Record<Step, string>>
  /** `repo.car` in the folder: the old repo as last exported (a full CAR). */
  exported?: RepoSnapshot
  /** The rev the new PDS was last given. */
  imported?: string
  /** Blob CIDs the old PDS lists for the account, at export time. */
  blobCids?: string[]
  blobs?: { transferred: number; bytes: number; missingAtSource: string[] }
  /** SHA-256 of the old preferences (not the preferences: they hold personal details). */
  preferences?: { count: number; sha256: string }
  /** The operation the old PDS signed, until the new one has submitted it. */
  signedPlcOperation?: Record<string, unknown>
}

export class StateStore {
  readonly dir: string

  constructor(root: string, did: string) {
    this.dir = join(root, did.replaceAll(':', '_'))
  }

  get carPath(): string {
    return join(this.dir, 'repo.car')
  }

  exists(): boolean {
    return existsSync(this.file())
  }

  load(): MigrationState {
    return JSON.parse(readFileSync(this.file(), 'utf8')) as MigrationState
  }

  /** Written to a temporary file and renamed, so a crash never leaves half a state. */
  save(state: MigrationState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const tmp = `${this.file()}.tmp`
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
    renameSync(tmp, this.file())
  }

  private file(): string {
    return join(this.dir, 'state.json')
  }
}

export function nextStep(state: MigrationState): Step | null {
  return STEPS.find((step) => !state.finished[step]) ?? null
}
