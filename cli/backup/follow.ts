/**
 * `--follow`: the backup kept in step with the PDS's firehose. Each `#commit` of the account
 * is verified inductively against the saved repo (inductive.ts) and saved with its new blobs;
 * the cursor is saved after it (layout.ts gives the order), so a restarted follower resumes
 * where the saved copy stands. Whatever cannot be applied from the stream (a missed event, a
 * failed check, `tooBig`, `#sync`) is fetched from the PDS instead (`getRepo?since=`, run.ts),
 * and following goes on from there.
 *
 * The folder is saved at most once a second while commits flow, and within a second of the
 * last: each save rewrites the whole `repo.car`, so saving every commit of a busy account
 * would rewrite a large repo many times a second. Commits applied in memory and not yet saved
 * are never ahead of `follow.json`: it is written last, from the same moment as the repo, so
 * a crash costs only replaying them from the saved cursor.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { findBlobRefs } from '../../src/data/blob-ref.ts'
import { verifyCommitSignature } from '../../src/repo/commit.ts'
import type { DecodedFrame } from '../../src/sequencer/frame.ts'
import type { Account } from '../client/account.ts'
import { log } from '../client/command.ts'
import type { DidDocument } from '../client/identity.ts'
import { LocalRepo } from '../client/local-repo.ts'
import { subscribeRepos, subscribeReposUrl } from './firehose.ts'
import { applyCommitEvent, type CommitEvent } from './inductive.ts'
import type { BackupFolder, FollowState } from './layout.ts'
import { fetchBlobs, runBackup, saveIdentity, savePreferences, writeMeta } from './run.ts'

export interface FollowOptions {
  /** The service whose subscribeRepos is followed (the PDS, or a relay carrying it). */
  firehose: string
  plcUrl: string
  signal: AbortSignal
}

const RECONNECT_MAX_MS = 30_000
/** At most one save of the folder per this while commits flow; none later than this after one. */
const SAVE_INTERVAL_MS = 1_000

export async function followBackup(
  account: Account,
  folder: BackupFolder,
  opts: FollowOptions,
): Promise<void> {
  const follower = await Follower.start(account, folder, opts)
  await follower.run()
}

class Follower {
  private readonly account: Account
  private readonly folder: BackupFolder
  private readonly opts: FollowOptions
  private repo: LocalRepo
  private key: string
  private didDocument: DidDocument
  private state: FollowState
  private readonly progress = new FollowProgress()
  /** Applied (or identity changed) since the last save: `repo.car` and `backup.json` are stale. */
  private dirty = false
  private lastSave = 0
  private saveTimer: NodeJS.Timeout | null = null
  /** The saves, one after the other, in the order they were asked for. */
  private saving: Promise<void> = Promise.resolve()
  /** A save of `repo.car` failed: the next save writes it, whatever it was asked for. */
  private carBehind = false

  private constructor(
    account: Account,
    folder: BackupFolder,
    opts: FollowOptions,
    start: { repo: LocalRepo; key: string; didDocument: DidDocument; state: FollowState },
  ) {
    this.account = account
    this.folder = folder
    this.opts = opts
    this.repo = start.repo
    this.key = start.key
    this.didDocument = start.didDocument
    this.state = start.state
  }

  /** Resumes from the saved cursor, or starts with an ordinary backup run. */
  static async start(account: Account, folder: BackupFolder, opts: FollowOptions) {
    const saved = await folder.followState()
    const meta = await folder.meta()
    const resumable =
      saved &&
      meta?.did === account.did &&
      saved.firehose === opts.firehose &&
      existsSync(folder.car)
    if (resumable) {
      const { didDocument, key } = await saveIdentity(folder, account.did, opts.plcUrl)
      await savePreferences(account, folder)
      const repo = await LocalRepo.fromCar(new Uint8Array(await readFile(folder.car)))
      if (await verifyCommitSignature(repo.commit, key)) {
        log(
          `Resuming ${account.did} from seq ${saved.seq} (rev ${repo.rev}, ` +
            `${saved.commitsApplied} commits applied so far).`,
        )
        return new Follower(account, folder, opts, { repo, key, didDocument, state: saved })
      }
      log('The saved repo is not signed by the current key: fetching the changes first.')
    }
    const backup = await runBackup(account, folder, opts.plcUrl)
    const state: FollowState = {
      version: 1,
      firehose: opts.firehose,
      seq: -1,
      rev: backup.repo.rev,
      commitsApplied: saved?.commitsApplied ?? 0,
      account: saved?.account ?? null,
      updatedAt: new Date().toISOString(),
    }
    return new Follower(account, folder, opts, {
      repo: backup.repo,
      key: backup.signingKey,
      didDocument: backup.didDocument,
      state,
    })
  }

  async run(): Promise<void> {
    let failures = 0
    while (!this.opts.signal.aborted) {
      const cursor = this.state.seq >= 0 ? this.state.seq : null
      const subscription = subscribeRepos(subscribeReposUrl(this.opts.firehose, cursor))
      const stop = () => subscription.close()
      this.opts.signal.addEventListener('abort', stop)
      try {
        await subscription.opened
        log(
          `Following ${this.opts.firehose} ${cursor === null ? 'from now' : `from seq ${cursor}`}.`,
        )
        // Without a cursor, commits made before the connection opened are not on it.
        if (cursor === null) await this.catchUpIfBehind()
        for await (const frame of subscription.frames) {
          if (this.opts.signal.aborted) break
          await this.handle(frame)
          failures = 0
        }
      } catch (err) {
        failures++
        log(`The firehose connection failed: ${(err as Error).message}`)
      } finally {
        this.opts.signal.removeEventListener('abort', stop)
        subscription.close()
      }
      if (this.opts.signal.aborted) break
      const wait = Math.min(RECONNECT_MAX_MS, 500 * 2 ** Math.min(failures, 6))
      await sleep(wait, this.opts.signal)
    }
    await this.save()
    this.progress.flush(this.state)
    log(
      `Stopped at seq ${this.state.seq} (rev ${this.repo.rev}); run again with --follow to resume.`,
    )
  }

  private async handle(frame: DecodedFrame): Promise<void> {
    const { header, body } = frame
    if (header.op === -1) {
      const error = String(body.error)
      if (error === 'FutureCursor') this.state.seq = -1
      throw new Error(`the firehose refused: ${error}${body.message ? ` (${body.message})` : ''}`)
    }
    if (header.t === '#info') {
      log(`The firehose says ${String(body.name)}${body.message ? `: ${body.message}` : ''}.`)
      return
    }
    const seq = body.seq
    if (typeof seq !== 'number') return
    const ofAccount = (body.repo ?? body.did) === this.account.did
    let applied = false
    if (ofAccount) {
      if (header.t === '#commit') applied = await this.onCommit(body as unknown as CommitEvent)
      else if (header.t === '#sync') await this.onSync(body)
      else if (header.t === '#identity') await this.onIdentity(body)
      else if (header.t === '#account') this.onAccount(body)
    }
    // Other accounts' events only move the cursor in memory; it is saved with this account's.
    this.state.seq = seq
    if (!ofAccount) return
    if (applied) {
      this.saveSoon()
      this.progress.applied(this.state)
    } else await this.save()
  }

  /** True when the commit was applied from the stream. */
  private async onCommit(event: CommitEvent): Promise<boolean> {
    if (event.rev <= this.repo.rev) return false // already saved (a replay after a restart)
    let applied: Awaited<ReturnType<typeof applyCommitEvent>>
    try {
      applied = await applyCommitEvent(this.repo, event, this.key)
    } catch (err) {
      // The check is pure: any failure in it (a malformed event too) means "not from here".
      log(
        `seq ${event.seq} (rev ${event.rev}) not applied: ${(err as Error).message}; ` +
          `fetching the changes since ${this.repo.rev} from the PDS.`,
      )
      await this.refetch()
      return false
    }
    // Its blobs are saved before any save of the repo that references them.
    const blobs = applied.written.flatMap((r) => findBlobRefs(r.value).map((b) => b.ref.toString()))
    await fetchBlobs(this.account, this.folder, blobs)
    this.repo = applied.repo
    this.dirty = true
    this.state.commitsApplied++
    return true
  }

  private async onSync(body: Record<string, unknown>): Promise<void> {
    if (body.rev === this.repo.rev) return
    log(
      `seq ${String(body.seq)}: #sync to rev ${String(body.rev)}; fetching the repo from the PDS.`,
    )
    await this.refetch()
  }

  private async onIdentity(body: Record<string, unknown>): Promise<void> {
    const { didDocument, key } = await saveIdentity(this.folder, this.account.did, this.opts.plcUrl)
    this.didDocument = didDocument
    this.key = key
    this.dirty = true // backup.json names the handle, from the DID document
    log(`seq ${String(body.seq)}: identity changed; DID document saved (signing key ${key}).`)
  }

  private onAccount(body: Record<string, unknown>): void {
    const active = body.active === true
    const status = typeof body.status === 'string' ? body.status : undefined
    this.state.account = status ? { active, status } : { active }
    log(`seq ${String(body.seq)}: the account is ${active ? 'active' : (status ?? 'inactive')}.`)
  }

  /** The ordinary incremental run: repo since the saved rev, new blobs, preferences, identity. */
  private async refetch(): Promise<void> {
    // No save may land after the run's own: runBackup starts from the saved repo.car (older
    // than the repo in memory, if commits wait to be saved) and saves what it fetched.
    this.cancelSaveSoon()
    await this.saving.catch(() => {})
    const backup = await runBackup(this.account, this.folder, this.opts.plcUrl)
    this.dirty = false
    this.carBehind = false
    this.repo = backup.repo
    this.key = backup.signingKey
    this.didDocument = backup.didDocument
  }

  private async catchUpIfBehind(): Promise<void> {
    const head = await this.account.client.query<{ rev: string }>(
      'com.atproto.sync.getLatestCommit',
      { params: { did: this.account.did }, auth: 'none' },
    )
    if (head.rev !== this.repo.rev) await this.refetch()
  }

  /**
   * Saves the folder as it stands now: `repo.car` and `backup.json` if stale, then
   * `follow.json`, whose cursor is this moment's, so never ahead of the saved repo.
   */
  private save(): Promise<void> {
    this.cancelSaveSoon()
    this.lastSave = Date.now()
    const repo = this.repo
    const stale = this.dirty
    this.dirty = false
    this.state.rev = repo.rev
    this.state.updatedAt = new Date().toISOString()
    const state = { ...this.state }
    this.saving = this.saving
      .catch(() => {}) // an earlier failure was reported to its own caller
      .then(async () => {
        if (stale || this.carBehind) {
          this.carBehind = true
          await this.folder.write(this.folder.car, await repo.toCar())
          await writeMeta(this.folder, this.account, repo, this.didDocument)
          this.carBehind = false
        }
        await this.folder.writeJson(this.folder.path('follow.json'), state)
      })
    return this.saving
  }

  /** Saves now if the last save is a second old, otherwise when it will be. */
  private saveSoon(): void {
    const wait = this.lastSave + SAVE_INTERVAL_MS - Date.now()
    if (wait <= 0) {
      this.saveInBackground()
      return
    }
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = null
      this.saveInBackground()
    }, wait)
  }

  /** A failed save is said, and made good by the next (`carBehind`). */
  private saveInBackground(): void {
    this.save().catch((err) => log(`Saving the folder failed: ${(err as Error).message}`))
  }

  private cancelSaveSoon(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
  }
}

/**
 * "N commits applied, last seq S": redrawn in place on a terminal; otherwise a line at most
 * every few seconds, and one when the stream goes quiet, so logs show where it stands.
 */
class FollowProgress {
  private readonly tty = Boolean(process.stdout.isTTY)
  private lastLine = 0
  private pending: FollowState | null = null
  private quiet: NodeJS.Timeout | null = null

  applied(state: FollowState): void {
    if (this.tty) {
      process.stdout.write(`\r\x1b[2K${text(state)}`)
      return
    }
    this.pending = state
    if (Date.now() - this.lastLine >= 5_000) this.flush(state)
    if (this.quiet) clearTimeout(this.quiet)
    this.quiet = setTimeout(() => this.pending && this.flush(this.pending), 1_000)
  }

  flush(state: FollowState): void {
    if (this.quiet) clearTimeout(this.quiet)
    this.quiet = null
    if (this.tty) {
      process.stdout.write('\n')
      return
    }
    if (!this.pending) return
    this.pending = null
    this.lastLine = Date.now()
    log(text(state))
  }
}

function text(state: FollowState): string {
  return `${state.commitsApplied} commits applied, last seq ${state.seq}, rev ${state.rev}`
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
