/**
 * One account's repository and its delivery: the logic behind the account Durable Object.
 *
 * Commits are serialized by a lock that covers building and storing the commit; the lock is
 * released at the commit point, and the write then waits for its outbox entry to reach D1 and
 * the event log. So writes arriving together are committed one after another and delivered
 * together (one D1 batch, one sequencer call). The R2 archive is left to the object's alarm,
 * shortly after the answer, which also retries whatever a failure or a reset left in the outbox.
 */
import { Secp256k1Keypair } from '../crypto/index.ts'
import { CID } from '../data/cid.ts'
import { Mst } from '../repo/mst/index.ts'
import type { SqlStorageLike } from '../storage/sql.ts'
import { isValidDid } from '../syntax/did.ts'
import { BlockGarbage } from './block-garbage.ts'
import { SqlBlockStore } from './block-store.ts'
import { type BuiltCommit, buildGenesisCommit, buildWriteCommit } from './commit-builder.ts'
import { OutboxDrainer } from './drain.ts'
import { RepoWriteError } from './errors.ts'
import { accountEventBody, commitEventBody, identityEventBody, syncEventBody } from './events.ts'
import { Mutex } from './mutex.ts'
import { Outbox, type OutboxEntry } from './outbox.ts'
import { commitAtRevFromSql, readBlocksFromSql, recordProofCar, repoCarStream } from './repo-car.ts'
import { type RepoState, readRepoState, writeRepoState } from './repo-state.ts'
import type { AccountSinks } from './sinks.ts'
import { ensureAccountSchema } from './storage-schema.ts'
import type {
  AccountStatusInfo,
  ApplyWritesInput,
  CommitRef,
  CreateRepoInput,
  GetBlocksResult,
  InactiveStatus,
  SetStatusInput,
  WriteResult,
} from './types.ts'

export type AccountHost = {
  storage: SqlStorageLike
  sinks: AccountSinks
  /** Schedules the object's alarm (replacing any), which must call `runAlarm`. */
  setAlarm(at: number): void
  /** Deletes all of the object's storage and its alarm. */
  wipe(): Promise<void>
  /**
   * The private key bytes of an encrypted signing key (as stored in D1, bound to the DID).
   * The key is kept encrypted in the object's storage too, and only decrypted in memory.
   */
  decryptSigningKey(encrypted: string, did: string): Promise<Uint8Array>
  log?(message: string, err: unknown): void
}

/** The alarm set at each commit point, in case the object is reset before delivering. */
const SAFETY_ALARM_MS = 30_000
/**
 * Delay before archiving to R2, off the answer: a local R2 put takes about 1 ms of the
 * object's thread, which would otherwise slow the next write down (measured: 6.1 ms a write
 * with the put right after the answer, 3.9 ms with it left to the alarm).
 */
const ARCHIVE_DELAY_MS = 1000
const MAX_RETRY_MS = 5 * 60_000
/**
 * Unreachable blocks are kept this long after the commit that let go of them, so a relay that
 * just saw the commit can still fetch its blocks (getBlocks, getRecord proofs).
 */
export const GARBAGE_GRACE_MS = 5 * 60_000
/** Blocks deleted per statement, and statements per sweep, so a sweep stays short. */
const SWEEP_BATCH = 500
const SWEEP_BATCHES = 4
/** Decoded MST nodes accumulate in memory as writes visit them; start afresh now and then. */
const COMMITS_PER_TREE_LOAD = 1000

const INACTIVE_ERRORS = {
  deactivated: ['AccountDeactivated', 'Account is deactivated'],
  takendown: ['AccountTakedown', 'Account has been taken down'],
  suspended: ['AccountSuspended', 'Account is suspended'],
  deleted: ['RepoNotFound', 'Account is deleted'],
} as const

export class Account {
  /** Replaceable, so tests can inject failures. */
  sinks: AccountSinks
  readonly blocks: SqlBlockStore
  private readonly host: AccountHost
  private readonly outbox: Outbox
  private readonly garbage: BlockGarbage
  private readonly drainer: OutboxDrainer
  private readonly lock = new Mutex()
  private state: RepoState | null
  private mst: Mst | null = null
  private keypair: Secp256k1Keypair | null = null
  private commitsSinceLoad = 0
  private alarmAt: number | null = null
  private failures = 0
  private schemaReady = true
  /** Export streams still reading blocks: no sweep meanwhile. */
  private openExports = 0

  constructor(host: AccountHost) {
    this.host = host
    this.sinks = host.sinks
    ensureAccountSchema(host.storage.sql)
    this.blocks = new SqlBlockStore(host.storage.sql)
    this.outbox = new Outbox(host.storage.sql, this.blocks)
    this.garbage = new BlockGarbage(host.storage.sql)
    this.state = readRepoState(host.storage.sql)
    this.drainer = new OutboxDrainer({
      did: () => this.state?.did ?? '',
      outbox: this.outbox,
      sinks: () => this.sinks,
      log: (message, err) => this.log(message, err),
    })
  }

  /** Run once when the object starts: resumes a delivery a reset interrupted. */
  start(currentAlarm: number | null): void {
    this.alarmAt = currentAlarm
    if (!this.outbox.isEmpty()) this.scheduleAlarm(Date.now())
  }

  async createRepo(input: CreateRepoInput): Promise<CommitRef> {
    const { ref, lastId } = await this.lock.run(async () => {
      this.ensureSchema()
      if (this.state) {
        if (this.state.did !== input.did) {
          throw new RepoWriteError('RepoAlreadyExists', `This object holds ${this.state.did}`)
        }
        return { ref: headRef(this.state), lastId: null }
      }
      if (typeof input.did !== 'string' || !isValidDid(input.did)) {
        throw new RepoWriteError('InvalidRequest', `Invalid DID: ${String(input.did)}`)
      }
      let key: Secp256k1Keypair
      try {
        key = await Secp256k1Keypair.import(
          await this.host.decryptSigningKey(input.signingKey, input.did),
        )
      } catch {
        throw new RepoWriteError('InvalidRequest', 'Invalid signing key')
      }
      const { did, handle } = input
      const active = input.active !== false
      const built = await buildGenesisCommit({ did, mst: Mst.create(this.blocks), key })
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
        // Ids from the clock: a repo deleted and created again must not reuse an id the
        // sequencer has already seen for this DID.
        lastOutboxId: Date.now() * 1000,
      }
      const lastId = this.persist(state, built, entries)
      this.keypair = key
      return { ref: headRef(state), lastId }
    })
    if (lastId !== null) await this.afterCommit(lastId)
    return ref
  }

  async applyWrites(input: ApplyWritesInput): Promise<WriteResult> {
    const { id, commit, results } = await this.lock.run(async () => {
      const state = this.writableState()
      const built = await buildWriteCommit(
        {
          did: state.did,
          mst: this.loadMst(state),
          key: await this.signingKey(state),
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
    return { commit, results, indexed }
  }

  getHead(): CommitRef | null {
    return this.state ? headRef(this.state) : null
  }

  getStatus(): AccountStatusInfo | null {
    return this.state ? statusInfo(this.state) : null
  }

  /** Queues `#account`; a reactivation also queues `#identity` and `#sync`, as the reference. */
  async setStatus(input: SetStatusInput): Promise<AccountStatusInfo> {
    const { info, lastId } = await this.lock.run(async () => {
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
    const lastId = await this.lock.run(async () => {
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
   * Queues `#account` deleted and delivers it, then removes the repo from D1 and R2 and wipes
   * the object. Throws (the caller retries) if the event cannot be delivered now.
   */
  async deleteRepo(): Promise<void> {
    const lastId = await this.lock.run(async () => {
      this.ensureSchema()
      const state = this.state
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
    await this.lock.run(async () => {
      const state = this.state
      if (!state) return
      this.outbox.skipArchives()
      await this.drainer.archiveIdle()
      await this.sinks.index.deleteRepo(state.did)
      await this.sinks.archive.deleteRepo(state.did)
      await this.host.wipe()
      this.state = null
      this.mst = null
      this.keypair = null
      this.alarmAt = null
      this.schemaReady = false
    })
  }

  getBlock(cid: string): Uint8Array | null {
    if (!this.state) return null
    return this.blocks.getSync(cid)
  }

  /**
   * The repo at its head as a CAR stream; with `since`, only the blocks new after that rev.
   * Blocks are read as the stream is, so no sweep runs until it ends.
   */
  exportRepo(since: string | null): ReadableStream<Uint8Array> | null {
    if (!this.state) return null
    const head = this.state.commitCid
    const commitAtRev = commitAtRevFromSql(this.host.storage.sql)
    const stream = repoCarStream(this.blocks, CID.parse(head), {
      since,
      // An older commit whose whole tree is known to be stored: one marked as garbage and not
      // swept yet (the sweep deletes a commit before any node of its tree). Any other (one
      // stored before GC, whose nodes may be gone) gets the whole repo, the safe answer.
      commitAtRev: async (rev) => {
        const cid = await commitAtRev(rev)
        if (!cid) return null
        const id = cid.toString()
        return id === head || this.garbage.isMarkedCommit(id) ? cid : null
      },
      readBlocks: readBlocksFromSql(this.host.storage.sql),
    })
    this.openExports++
    return whenDone(stream, () => {
      this.openExports--
      if (this.openExports === 0 && !this.garbage.isEmpty()) {
        this.scheduleAlarm(Date.now() + ARCHIVE_DELAY_MS)
      }
    })
  }

  /** Blocks stored and not awaiting collection: com.atproto.server.checkAccountStatus. */
  liveBlockCount(): number | null {
    return this.state ? this.garbage.liveBlockCount() : null
  }

  /** The stored blocks a sweep will delete once their time comes. */
  pendingGarbage(): Set<string> {
    return this.garbage.pendingSync()
  }

  /**
   * Deletes unreachable blocks that nothing may read any more, in bounded batches. Returns
   * how many, and when to sweep again (null: nothing left, or the outbox's alarm will).
   * `graceMs` is for tests.
   */
  async sweepGarbage(
    graceMs = GARBAGE_GRACE_MS,
  ): Promise<{ deleted: number; nextAt: number | null }> {
    // Under the lock: a commit being built may count on a block being stored (a node it
    // brings back), which only its own transaction un-marks.
    return this.lock.run(async () => {
      let deleted = 0
      if (!this.state || this.openExports > 0) return { deleted, nextAt: null }
      const now = Date.now()
      for (let i = 0; i < SWEEP_BATCHES; i++) {
        const batch = this.host.storage.transactionSync(() =>
          this.garbage.sweepSync({
            outboxFloor: this.outbox.firstId(),
            markedBefore: now - graceMs,
            limit: SWEEP_BATCH,
          }),
        )
        deleted += batch.deleted
        if (batch.stop === 'grace') return { deleted, nextAt: batch.eligibleAt! + graceMs + 1 }
        // An older entry still names blocks: look again once the outbox may have drained
        // (the outbox's own alarm runs meanwhile if it does not).
        if (batch.stop === 'outbox') return { deleted, nextAt: Date.now() + SAFETY_ALARM_MS }
        if (batch.stop !== 'limit') return { deleted, nextAt: null }
      }
      return { deleted, nextAt: Date.now() + ARCHIVE_DELAY_MS }
    })
  }

  /** A CAR proving the record at `path` present (with the record) or absent, at the head. */
  async recordProof(path: string): Promise<Uint8Array | null> {
    if (!this.state) return null
    return recordProofCar(this.blocks, CID.parse(this.state.commitCid), path)
  }

  getBlocks(cids: string[]): GetBlocksResult {
    const out: GetBlocksResult = { blocks: [], missing: [] }
    for (const cid of cids) {
      const bytes = this.state ? this.blocks.getSync(cid) : null
      if (bytes) out.blocks.push({ cid, bytes })
      else out.missing.push(cid)
    }
    return out
  }

  /** The alarm: delivers and archives what is pending, and backs off while that fails. */
  async runAlarm(): Promise<void> {
    this.alarmAt = null
    if (!this.state) return
    const delivered = await this.drainer.deliverAll()
    const archived = delivered && (await this.drainer.archive())
    const nextAt = await this.sweepGarbage().then(
      (swept) => swept.nextAt,
      (err) => {
        // Collection can wait for the next alarm; delivery must not.
        this.log('account: block sweep failed', err)
        return null
      },
    )
    if (this.outbox.isEmpty()) {
      this.failures = 0
      if (nextAt !== null) this.scheduleAlarm(nextAt)
      return
    }
    if (!delivered || !archived) this.failures++
    this.scheduleAlarm(Date.now() + retryDelay(this.failures))
  }

  /**
   * The commit point: blocks, head and outbox entries in one SQLite transaction, with no I/O
   * inside. Returns the id of the last entry.
   */
  private persist(next: RepoState, built: BuiltCommit | null, entries: OutboxEntry[]): number {
    const firstId = (this.state?.lastOutboxId ?? next.lastOutboxId) + 1
    const state: RepoState = { ...next, lastOutboxId: firstId + entries.length - 1 }
    const now = new Date().toISOString()
    this.host.storage.transactionSync(() => {
      if (built) {
        // Counted: recordSync below adds each record's references.
        this.blocks.putSync(built.newBlocks, built.rev, 0)
        this.garbage.recordSync(built.garbage, firstId, built.rev, Date.now())
      }
      writeRepoState(this.host.storage.sql, state)
      entries.forEach((entry, i) => {
        this.outbox.appendSync(firstId + i, entry, now)
      })
    })
    this.state = state
    if (built) {
      built.mst.markStored()
      this.mst = built.mst
      if (++this.commitsSinceLoad >= COMMITS_PER_TREE_LOAD) {
        this.mst = null
        this.commitsSinceLoad = 0
      }
    }
    this.scheduleAlarm(Date.now() + SAFETY_ALARM_MS)
    if (built) {
      // Last, and never fatal: the commit is durable and the object in step with it; without
      // the prepared deliveries the rows serve (as after a reset).
      try {
        this.outbox.prepare(firstId, entries, built.carBlocks)
      } catch (err) {
        this.log('account outbox: could not prepare deliveries in memory', err)
      }
    }
    return state.lastOutboxId
  }

  /** Waits for delivery to D1 and the event log; the alarm then archives to R2. */
  private async afterCommit(lastId: number): Promise<boolean> {
    const delivered = await this.drainer.deliver(lastId)
    if (delivered) {
      this.failures = 0
      if (!this.outbox.isEmpty()) this.scheduleAlarm(Date.now() + ARCHIVE_DELAY_MS)
    } else {
      this.scheduleRetry()
    }
    return delivered
  }

  private scheduleRetry(): void {
    this.failures++
    this.scheduleAlarm(Date.now() + retryDelay(this.failures))
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    this.host.setAlarm(at)
  }

  private existingState(): RepoState {
    this.ensureSchema()
    if (!this.state) throw new RepoWriteError('RepoNotFound', 'Repo not found')
    return this.state
  }

  private writableState(): RepoState {
    const state = this.existingState()
    if (!state.active) {
      const [name, message] = INACTIVE_ERRORS[state.status ?? 'deactivated']
      throw new RepoWriteError(name, message)
    }
    return state
  }

  private loadMst(state: RepoState): Mst {
    this.mst ??= Mst.load(this.blocks, CID.parse(state.dataCid))
    return this.mst
  }

  private async signingKey(state: RepoState): Promise<Secp256k1Keypair> {
    this.keypair ??= await Secp256k1Keypair.import(
      await this.host.decryptSigningKey(state.signingKey, state.did),
    )
    return this.keypair
  }

  private ensureSchema(): void {
    if (this.schemaReady) return
    ensureAccountSchema(this.host.storage.sql)
    this.schemaReady = true
  }

  private log(message: string, err: unknown): void {
    if (this.host.log) this.host.log(message, err)
    else console.warn(message, err)
  }
}

function headRef(state: RepoState): CommitRef {
  return { cid: state.commitCid, rev: state.rev }
}

function statusInfo(state: RepoState): AccountStatusInfo {
  const info: AccountStatusInfo = {
    did: state.did,
    handle: state.handle,
    active: state.active,
    cid: state.commitCid,
    rev: state.rev,
  }
  if (state.status) info.status = state.status
  return info
}

/** The same stream, calling `done` once when it ends, fails or is cancelled. */
function whenDone(
  stream: ReadableStream<Uint8Array>,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    done()
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read()
        if (next.done) {
          end()
          controller.close()
        } else {
          controller.enqueue(next.value)
        }
      } catch (err) {
        end()
        controller.error(err)
      }
    },
    async cancel(reason) {
      end()
      await reader.cancel(reason)
    },
  })
}

function retryDelay(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS)
}
