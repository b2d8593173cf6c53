/**
 * com.atproto.repo.importRepo, inside the account object: the CAR's blocks arrive in batches
 * (`stage`, into import-staging.ts), then `finish`, under the writer's lock, checks the whole
 * repo (src/repo/import-check.ts) and only then switches over, in one SQLite transaction: the
 * tree's blocks replace the old ones, and a fresh commit signed by the account's key here,
 * with a rev above both the imported and the current one, becomes the head. Nothing before
 * that transaction changes the repo; a refused import leaves it as it was.
 *
 * Only a deactivated account imports (one created for migration): nothing goes to the
 * firehose; activation later emits `#sync` with this head, and the next write's `#commit`
 * follows on from it (`since` its rev, `prevData` its tree). The D1 index follows through
 * import-index.ts.
 */
import { CID } from '../data/cid.ts'
import { commitToBlock, signCommit } from '../repo/commit.ts'
import { checkImportedRepo, RepoImportError } from '../repo/import-check.ts'
import type { SqlStorageLike } from '../storage/sql.ts'
import { nextTid } from '../syntax/tid.ts'
import type { AccountAlarm } from './alarm.ts'
import type { Archiver } from './archiver.ts'
import type { BlockGarbage } from './block-garbage.ts'
import type { SqlBlockStore } from './block-store.ts'
import type { OutboxDrainer } from './drain.ts'
import { RepoWriteError } from './errors.ts'
import type { ImportIndexer } from './import-index.ts'
import type { ImportStaging } from './import-staging.ts'
import type { Mutex } from './mutex.ts'
import type { RepoCache } from './repo-cache.ts'
import { headRef, type RepoState, writeRepoState } from './repo-state.ts'
import type { FinishImportInput, ImportResult, StoredBlock } from './types.ts'

export type ImporterParts = {
  storage: SqlStorageLike
  blocks: SqlBlockStore
  staging: ImportStaging
  garbage: BlockGarbage
  drainer: OutboxDrainer
  archiver: Archiver
  indexer: ImportIndexer
  lock: Mutex
  cache: RepoCache
  alarm: AccountAlarm
}

export class AccountImporter {
  private readonly parts: ImporterParts

  constructor(parts: ImporterParts) {
    this.parts = parts
  }

  /** Starts an import (dropping an unfinished earlier one); returns its token. */
  async begin(): Promise<string> {
    return this.parts.lock.run(async () => {
      this.importableState()
      const token = this.parts.staging.begin()
      this.parts.alarm.importBegan()
      return token
    })
  }

  /** One batch of the CAR's blocks, hashes already checked by the reader. */
  stage(token: string, blocks: StoredBlock[]): void {
    this.importableState()
    this.parts.storage.transactionSync(() => this.parts.staging.stage(token, blocks))
  }

  /** The Worker gave up on the CAR (malformed, too large): its staged blocks go. */
  abort(token: string): void {
    this.parts.staging.abort(token)
  }

  async finish(input: FinishImportInput): Promise<ImportResult> {
    const { lock, indexer, alarm } = this.parts
    const commit = await lock.run(() => this.switchOver(input))
    alarm.imported()
    const run = await indexer.run()
    if (run === 'done') return { commit, indexed: true }
    // The alarm carries on, an invocation at a time; the answer waits for it (or a failure).
    const settled = indexer.settled()
    alarm.importIndexPending(run)
    return { commit, indexed: await settled }
  }

  private async switchOver(input: FinishImportInput) {
    const { storage, blocks, staging, garbage, archiver, drainer, indexer, cache } = this.parts
    const state = this.importableState()
    staging.requireToken(input.token)
    const root = parseRoot(input.root)
    // Entries not yet delivered may name blocks of the repo being replaced.
    if (!(await drainer.deliverAll())) {
      throw new RepoWriteError(
        'InvalidRequest',
        'Earlier changes of this account are still being delivered; import again shortly',
      )
    }
    let checked: Awaited<ReturnType<typeof checkImportedRepo>>
    try {
      checked = await checkImportedRepo(staging.reader(), root, state.did, {
        node: (cid) => staging.keepNode(cid),
        record: (_key, cid) => staging.keepRecord(cid),
      })
    } catch (err) {
      staging.discard()
      if (err instanceof RepoImportError) throw new RepoWriteError('InvalidRequest', err.message)
      throw err
    }
    const imported = checked.commit
    const rev = nextTid(laterRev(imported.rev, state.rev))
    const signed = await signCommit(
      { did: state.did, version: 3, data: imported.data, rev, prev: null },
      await cache.signingKey(state),
    )
    const block = await commitToBlock(signed)
    const next: RepoState = {
      ...state,
      commitCid: block.cid.toString(),
      rev,
      dataCid: imported.data.toString(),
    }
    storage.transactionSync(() => {
      blocks.clearSync()
      garbage.clearSync()
      staging.moveKeptSync(rev)
      blocks.putSync([block], rev, 0)
      // The replaced repo's commits are not worth archiving any more: the imported blocks
      // are, and then the replaced repo's objects go.
      archiver.importedSync(rev, next.commitCid)
      writeRepoState(storage.sql, next)
      indexer.startSync({ rev, commitCid: next.commitCid, dataCid: next.dataCid })
      storage.sql.exec(
        `INSERT OR REPLACE INTO repo_import
           (rev, imported_commit, imported_rev, signature_valid, records, imported_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        rev,
        root.toString(),
        imported.rev,
        input.signatureValid === null ? null : input.signatureValid ? 1 : 0,
        checked.records,
        new Date().toISOString(),
      )
    })
    cache.replaced(next)
    return headRef(next)
  }

  private importableState(): RepoState {
    const { state } = this.parts.cache
    if (!state || state.status === 'deleted') {
      throw new RepoWriteError('RepoNotFound', 'Repo not found')
    }
    if (state.active || state.status !== 'deactivated') {
      throw new RepoWriteError(
        'InvalidRequest',
        'A repo can only be imported into a deactivated account (such as one created for ' +
          'migration); this one is ' +
          (state.active ? 'active' : state.status),
      )
    }
    return state
  }
}

function parseRoot(root: string): CID {
  try {
    return CID.parse(root)
  } catch {
    throw new RepoWriteError('InvalidRequest', `Invalid root CID: ${root}`)
  }
}

/** TIDs sort as strings. */
function laterRev(a: string, b: string): string {
  if (a > b) return a
  return b
}
