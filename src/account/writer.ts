/**
 * The account object's writes: creating the repo, committing writes, status and identity
 * changes, deletion. Each is serialized by one lock that covers building and storing the
 * commit; the lock is released at the commit point, and the write then waits for its outbox
 * entry to reach D1 and the event log. So writes arriving together are committed one after
 * another and delivered together (one D1 batch, one sequencer call).
 */
import type { Secp256k1Keypair } from '../crypto/index.ts'
import { CID } from '../data/cid.ts'
import { Mst } from '../repo/mst/index.ts'
import type { SqlStorageLike } from '../storage/sql.ts'
import { isValidDid } from '../syntax/did.ts'
import type { AccountAlarm } from './alarm.ts'
import type { Archiver } from './archiver.ts'
import type { BlockGarbage } from './block-garbage.ts'
import type { SqlBlockStore } from './block-store.ts'
import { type BuiltCommit, buildGenesisCommit, buildWriteCommit } from './commit-builder.ts'
import type { OutboxDrainer } from './drain.ts'
import { RepoWriteError } from './errors.ts'
import { accountEventBody, commitEventBody, identityEventBody, syncEventBody } from './events.ts'
import type { Mutex } from './mutex.ts'
import type { Outbox, OutboxEntry } from './outbox.ts'
import type { RepoCache } from './repo-cache.ts'
import { headRef, type RepoState, statusInfo, writeRepoState } from './repo-state.ts'
import type { AccountSinks } from './sinks.ts'
import { ensureAccountSchema, firstOutboxIdFloor, keepOutboxIdFloor } from './storage-schema.ts'
import type {
  AccountStatusInfo,
  ApplyWritesInput,
  CommitRef,
  CreateRepoInput,
  InactiveStatus,
  SetStatusInput,
  WriteResult,
} from './types.ts'
import { countWriteLimits } from './write-limits.ts'

const INACTIVE_ERRORS = {
  deactivated: ['AccountDeactivated', 'Account is deactivated'],
  takendown: ['AccountTakedown', 'Account has been taken down'],
  suspended: ['AccountSuspended', 'Account is suspended'],
  deleted: ['RepoNotFound', 'Account is deleted'],
} as const

export type WriterParts = {
  storage: SqlStorageLike
  /** Deletes everything the object stores, its alarm included. */
  wipe(): Promise<void>
  sinks(): AccountSinks
  blocks: SqlBlockStore
  outbox: Outbox
  garbage: BlockGarbage
  drainer: OutboxDrainer
  archiver: Archiver
  lock: Mutex
  cache: RepoCache
  alarm: AccountAlarm
  log(message: string, err: unknown): void
}

export class AccountWriter {
  private readonly parts: WriterParts
  private schemaReady = true

  constructor(parts: WriterParts) {
    this.parts = parts
  }

  async createRepo(input: CreateRepoInput): Promise<CommitRef> {
    const { cache, lock, blocks } = this.parts
    const { ref, lastId } = await lock.run(async () => {
      this.ensureSchema()
      if (cache.state) {
        if (cache.state.did !== input.did) {
          throw new RepoWriteError('RepoAlreadyExists', `This object holds ${cache.state.did}`)
        }
        return { ref: headRef(cache.state), lastId: null }
      }
      if (typeof input.did !== 'string' || !isValidDid(input.did)) {
        throw new RepoWriteError('InvalidRequest', `Invalid DID: ${String(input.did)}`)
      }
      let key: Secp256k1Keypair
      try {
        key = await cache.importKey(input.signingKey, input.did)
      } catch {
        throw new RepoWriteError('InvalidRequest', 'Invalid signing key')
      }
      const { did, handle } = input
      const active = input.active !== false
      const built = await buildGenesisCommit({ did, mst: Mst.create(blocks), key })
      const time = new Date().toISOString()
      const commitEntry: OutboxEntry = {
        event: {
          type: '#commit',
          body: commitEventBody({
            repo: did,
            commit: built.commitCid,
            rev: built.rev,
            since: null,
            ops: [],
            prevData: null,
            time,
          }),
        },
        car: built.car,
        commit: { cid: built.commitCid.toString(), rev: built.rev, ops: [] },
      }
      // A migrating account is created deactivated and says nothing until it is activated.
      const entries: OutboxEntry[] = active
        ? [
            { event: { type: '#identity', body: identityEventBody({ did, handle, time }) } },
            {
              event: {
                type: '#account',
                body: accountEventBody({ did, active, status: null, time }),
              },
            },
            commitEntry,
            {
              event: { type: '#sync', body: syncEventBody({ did, rev: built.rev, time }) },
              car: [built.commitCid],
            },
          ]
        : [{ car: commitEntry.car, commit: commitEntry.commit }]
      const state: RepoState = {
        did,
        handle,
        signingKey: input.signingKey,
        commitCid: built.commitCid.toString(),
        rev: built.rev,
        dataCid: built.dataCid.toString(),
        active,
        status: active ? null : 'deactivated',
        // A repo deleted and created again must not reuse an id the sequencer has already
        // seen for this DID: above the deleted repo's last id, kept through the wipe (and
        // from the clock, for objects wiped before that was kept).
        lastOutboxId: firstOutboxIdFloor(this.parts.storage.sql),
      }
      const lastId = this.persist(state, built, entries)
      cache.keepKey(key)
      return { ref: headRef(state), lastId }
    })
    if (lastId !== null) await this.afterCommit(lastId)
    return ref
  }

  async applyWrites(input: ApplyWritesInput): Promise<WriteResult> {
    const { cache, lock } = this.parts
    const { id, commit, results } = await lock.run(async () => {
      this.ensureSchema()
      // Counted first and kept whatever follows, as a refused or failed write still counts.
      countWriteLimits(this.parts.storage.sql, input.limits ?? [], Date.now())
      const state = this.writableState()
      const built = await buildWriteCommit(
        {
          did: state.did,
          mst: cache.tree(state),
          key: await cache.signingKey(state),
          rev: state.rev,
          headCid: state.commitCid,
        },
        input.writes,
        input.swapCommit,
      )
      const entry: OutboxEntry = {
        event: {
          type: '#commit',
          body: commitEventBody({
            repo: state.did,
            commit: built.commitCid,
            rev: built.rev,
            since: state.rev,
            ops: built.ops,
            prevData: CID.parse(state.dataCid),
            time: new Date().toISOString(),
          }),
        },
        car: built.car,
        commit: { cid: built.commitCid.toString(), rev: built.rev, ops: built.indexOps },
      }
      const next: RepoState = {
        ...state,
        commitCid: built.commitCid.toString(),
        rev: built.rev,
        dataCid: built.dataCid.toString(),
      }
      const id = this.persist(next, built, [entry])
      return { id, commit: headRef(next), results: built.results }
    })
    const indexed = await this.afterCommit(id)
    return { commit, results, indexed, bookmark: indexed ? this.parts.drainer.bookmark : null }
  }

  /** Queues `#account`; a reactivation also queues `#identity` and `#sync`, as the reference. */
  async setStatus(input: SetStatusInput): Promise<AccountStatusInfo> {
    const { info, lastId } = await this.parts.lock.run(async () => {
      const state = this.existingState()
      const active = input.active === true
      const status: InactiveStatus | null = active ? null : (input.status ?? 'deactivated')
      if (status !== null && !(status in INACTIVE_ERRORS)) {
        throw new RepoWriteError('InvalidRequest', `Unknown account status ${String(status)}`)
      }
      if (state.active === active && state.status === status) {
        return { info: statusInfo(state), lastId: null }
      }
      const next: RepoState = { ...state, active, status }
      const time = new Date().toISOString()
      const { did } = state
      const entries: OutboxEntry[] = [
        { event: { type: '#account', body: accountEventBody({ did, active, status, time }) } },
      ]
      if (active && !state.active) {
        entries.push(
          {
            event: {
              type: '#identity',
              body: identityEventBody({ did, handle: state.handle, time }),
            },
          },
          {
            event: { type: '#sync', body: syncEventBody({ did, rev: state.rev, time }) },
            car: [CID.parse(state.commitCid)],
          },
        )
      }
      return { info: statusInfo(next), lastId: this.persist(next, null, entries) }
    })
    if (lastId !== null) await this.afterCommit(lastId)
    return info
  }

  /** Queues `#identity` (after a handle change or a key rotation); allowed while inactive. */
  async emitIdentity(input: { handle?: string | null }): Promise<void> {
    const lastId = await this.parts.lock.run(async () => {
      const state = this.existingState()
      const handle = input.handle === undefined ? state.handle : input.handle
      const next: RepoState = { ...state, handle }
      const time = new Date().toISOString()
      const body = identityEventBody({ did: state.did, handle, time })
      return this.persist(next, null, [{ event: { type: '#identity', body } }])
    })
    await this.afterCommit(lastId)
  }

  /**
   * Queues `#sync` with the current head, for a relay that holds the repo behind or not at all
   * (the relay doctor, src/sync/relay-doctor.ts). An inactive repo says nothing: its head is
   * not served. Returns the rev announced, or null.
   */
  async emitSync(): Promise<string | null> {
    const queued = await this.parts.lock.run(async () => {
      const state = this.existingState()
      if (!state.active) return null
      const body = syncEventBody({ did: state.did, rev: state.rev, time: new Date().toISOString() })
      const entry: OutboxEntry = {
        event: { type: '#sync', body },
        car: [CID.parse(state.commitCid)],
      }
      return { rev: state.rev, lastId: this.persist(state, null, [entry]) }
    })
    if (!queued) return null
    await this.afterCommit(queued.lastId)
    return queued.rev
  }

  /**
   * Queues `#account` deleted and delivers it, then removes the repo from D1 and R2 and wipes
   * the object. Throws (the caller retries) if the event cannot be delivered now.
   */
  async deleteRepo(): Promise<void> {
    const { cache, lock } = this.parts
    const lastId = await lock.run(async () => {
      this.ensureSchema()
      const state = cache.state
      if (!state) return null
      // A retried deletion: the event is already queued.
      if (state.status === 'deleted') return state.lastOutboxId
      const next: RepoState = { ...state, active: false, status: 'deleted' }
      const time = new Date().toISOString()
      const body = accountEventBody({ did: state.did, active: false, status: 'deleted', time })
      return this.persist(next, null, [{ event: { type: '#account', body } }])
    })
    if (lastId === null) return
    if (!(await this.afterCommit(lastId))) {
      throw new Error('account deletion: the #account event is not delivered yet; retry')
    }
    await lock.run(async () => {
      const state = cache.state
      if (!state) return
      const { archiver, alarm } = this.parts
      archiver.abandonSync()
      await archiver.idle()
      const sinks = this.parts.sinks()
      await sinks.index.deleteRepo(state.did)
      await sinks.archive.deleteRepo(state.did)
      await this.parts.wipe()
      keepOutboxIdFloor(this.parts.storage.sql, state.lastOutboxId)
      cache.clear()
      alarm.reset()
      this.schemaReady = false
    })
  }

  /**
   * The commit point: blocks, head and outbox entries in one SQLite transaction, with no I/O
   * inside. Returns the id of the last entry.
   */
  private persist(next: RepoState, built: BuiltCommit | null, entries: OutboxEntry[]): number {
    const { storage, blocks, garbage, outbox, cache, alarm } = this.parts
    const firstId = (cache.state?.lastOutboxId ?? next.lastOutboxId) + 1
    const state: RepoState = { ...next, lastOutboxId: firstId + entries.length - 1 }
    const now = new Date().toISOString()
    storage.transactionSync(() => {
      if (built) {
        // Counted: recordSync below adds each record's references.
        blocks.putSync(built.newBlocks, built.rev, 0)
        garbage.recordSync(built.garbage, firstId, built.rev, Date.now())
      }
      writeRepoState(storage.sql, state)
      // The previous deliveries' marks ride along: no storage commit of their own.
      outbox.writeMarks()
      entries.forEach((entry, i) => {
        outbox.appendSync(firstId + i, entry, now, state.lastOutboxId)
      })
    })
    cache.committed(state, built)
    alarm.committed(entries.filter((entry) => entry.commit && entry.car).length)
    if (built) {
      // Last, and never fatal: the commit is durable and the object in step with it; without
      // the prepared deliveries the rows serve (as after a reset).
      try {
        outbox.prepare(firstId, entries, built.carBlocks)
      } catch (err) {
        this.parts.log('account outbox: could not prepare deliveries in memory', err)
      }
    }
    return state.lastOutboxId
  }

  /** Waits for delivery to D1 and the event log; the alarm then archives to R2. */
  private async afterCommit(lastId: number): Promise<boolean> {
    const delivered = await this.parts.drainer.deliver(lastId)
    this.parts.alarm.delivered(delivered)
    return delivered
  }

  /** The repo's state; a repo being deleted (between deleteRepo's two steps) is gone. */
  private existingState(): RepoState {
    this.ensureSchema()
    const { state } = this.parts.cache
    if (!state || state.status === 'deleted') {
      throw new RepoWriteError('RepoNotFound', 'Repo not found')
    }
    return state
  }

  private writableState(): RepoState {
    const state = this.existingState()
    if (!state.active) {
      const [name, message] = INACTIVE_ERRORS[state.status ?? 'deactivated']
      throw new RepoWriteError(name, message)
    }
    return state
  }

  private ensureSchema(): void {
    if (this.schemaReady) return
    ensureAccountSchema(this.parts.storage.sql)
    this.schemaReady = true
  }
}
