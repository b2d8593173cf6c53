/**
 * One account's repository: the logic behind the account Durable Object, as a thin front
 * over the parts that each do one job:
 *
 * - `writer.ts`: commits (create, write, status, identity, delete), serialized by one lock;
 * - `reader.ts`: head, blocks, the repo CAR stream and record proofs;
 * - `importer.ts`: importRepo (staged blocks checked, then the repo replaced at once);
 * - `alarm.ts`: delivery retries, the R2 archive (`archiver.ts`) and the block sweep;
 * - `repo-cache.ts`: the state row, the MST and the signing key kept in memory.
 *
 * Storage is the object's SQLite (`storage-schema.ts`): blocks (`block-store.ts`), unreachable
 * blocks (`block-garbage.ts`) and the outbox of not-yet-delivered effects (`outbox.ts`,
 * delivered by `drain.ts`).
 */
import type { SqlStorageLike } from '../storage/sql.ts'
import { AccountAlarm } from './alarm.ts'
import { Archiver } from './archiver.ts'
import { BlockGarbage } from './block-garbage.ts'
import { SqlBlockStore } from './block-store.ts'
import { OutboxDrainer } from './drain.ts'
import { ImportIndexer } from './import-index.ts'
import { ImportStaging } from './import-staging.ts'
import { AccountImporter } from './importer.ts'
import { Mutex } from './mutex.ts'
import { Outbox } from './outbox.ts'
import { AccountReader } from './reader.ts'
import { RepoCache } from './repo-cache.ts'
import { readRepoState } from './repo-state.ts'
import type { AccountSinks } from './sinks.ts'
import { ensureAccountSchema } from './storage-schema.ts'
import type {
  AccountStatusInfo,
  ApplyWritesInput,
  CommitRef,
  CreateRepoInput,
  FinishImportInput,
  GetBlocksResult,
  ImportResult,
  SetStatusInput,
  StoredBlock,
  WriteResult,
} from './types.ts'
import { AccountWriter } from './writer.ts'

export type AccountHost = {
  storage: SqlStorageLike
  sinks: AccountSinks
  setAlarm(at: number): void
  /** Deletes everything the object stores, its alarm included. */
  wipe(): Promise<void>
  /**
   * The private key bytes of an encrypted signing key (as stored in D1, bound to the DID).
   * The key is kept encrypted in the object's storage too, and only decrypted in memory.
   */
  decryptSigningKey(encrypted: string, did: string): Promise<Uint8Array>
  log?(message: string, err: unknown): void
}

export class Account {
  /** Replaceable, so tests can inject failures. */
  sinks: AccountSinks
  readonly blocks: SqlBlockStore
  readonly outbox: Outbox
  private readonly writer: AccountWriter
  private readonly reader: AccountReader
  private readonly alarm: AccountAlarm
  private readonly importer: AccountImporter

  constructor(host: AccountHost) {
    const { storage } = host
    this.sinks = host.sinks
    ensureAccountSchema(storage.sql)
    const blocks = new SqlBlockStore(storage.sql)
    this.blocks = blocks
    const outbox = new Outbox(storage.sql, blocks)
    this.outbox = outbox
    const garbage = new BlockGarbage(storage.sql)
    const cache = new RepoCache(blocks, host.decryptSigningKey, readRepoState(storage.sql))
    const lock = new Mutex()
    const log = (message: string, err: unknown) => {
      if (host.log) host.log(message, err)
      else console.warn(message, err)
    }
    const drainer = new OutboxDrainer({
      did: () => cache.state?.did ?? '',
      outbox,
      sinks: () => this.sinks,
      log,
    })
    const archiver = new Archiver({
      storage,
      outbox,
      did: () => cache.state?.did ?? '',
      sinks: () => this.sinks,
      log,
    })
    const setAlarm = (at: number) => host.setAlarm(at)
    const staging = new ImportStaging(storage.sql)
    const indexer = new ImportIndexer({
      sql: storage.sql,
      blocks,
      did: () => cache.state?.did ?? '',
      headData: () => cache.state?.dataCid ?? null,
      lock,
      sinks: () => this.sinks,
      log,
    })
    const alarm = new AccountAlarm({
      storage,
      setAlarm,
      cache,
      outbox,
      garbage,
      drainer,
      archiver,
      indexer,
      staging,
      lock,
      log,
    })
    this.alarm = alarm
    this.reader = new AccountReader({ storage, blocks, garbage, cache, alarm })
    this.writer = new AccountWriter({
      storage,
      wipe: () => host.wipe(),
      sinks: () => this.sinks,
      blocks,
      outbox,
      garbage,
      drainer,
      archiver,
      lock,
      cache,
      alarm,
      log,
    })
    this.importer = new AccountImporter({
      storage,
      blocks,
      staging,
      garbage,
      drainer,
      archiver,
      indexer,
      lock,
      cache,
      alarm,
    })
  }

  /** Run once when the object starts: resumes a delivery a reset interrupted. */
  start(currentAlarm: number | null): void {
    this.alarm.start(currentAlarm)
  }

  createRepo(input: CreateRepoInput): Promise<CommitRef> {
    return this.writer.createRepo(input)
  }

  applyWrites(input: ApplyWritesInput): Promise<WriteResult> {
    return this.writer.applyWrites(input)
  }

  setStatus(input: SetStatusInput): Promise<AccountStatusInfo> {
    return this.writer.setStatus(input)
  }

  emitIdentity(input: { handle?: string | null }): Promise<void> {
    return this.writer.emitIdentity(input)
  }

  emitSync(): Promise<string | null> {
    return this.writer.emitSync()
  }

  deleteRepo(): Promise<void> {
    return this.writer.deleteRepo()
  }

  beginImport(): Promise<string> {
    return this.importer.begin()
  }

  stageImport(token: string, blocks: StoredBlock[]): void {
    this.importer.stage(token, blocks)
  }

  abortImport(token: string): void {
    this.importer.abort(token)
  }

  finishImport(input: FinishImportInput): Promise<ImportResult> {
    return this.importer.finish(input)
  }

  getHead(): CommitRef | null {
    return this.reader.getHead()
  }

  getStatus(): AccountStatusInfo | null {
    return this.reader.getStatus()
  }

  getBlock(cid: string): Uint8Array | null {
    return this.reader.getBlock(cid)
  }

  getBlocks(cids: string[]): GetBlocksResult {
    return this.reader.getBlocks(cids)
  }

  exportRepo(since: string | null): ReadableStream<Uint8Array> | null {
    return this.reader.exportRepo(since)
  }

  recordProof(path: string): Promise<Uint8Array | null> {
    return this.reader.recordProof(path)
  }

  liveBlockCount(): number | null {
    return this.reader.liveBlockCount()
  }

  storedBlocks(): { blocks: number; bytes: number } | null {
    return this.reader.storedBlocks()
  }

  pendingGarbage(): Set<string> {
    return this.reader.pendingGarbage()
  }

  sweepGarbage(graceMs?: number): Promise<{ deleted: number; nextAt: number | null }> {
    return this.alarm.sweep(graceMs)
  }

  runAlarm(): Promise<void> {
    return this.alarm.run()
  }
}
