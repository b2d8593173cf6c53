import { DurableObject } from 'cloudflare:workers'
import { Account } from '../src/account/account.ts'
import { createR2CommitArchive } from '../src/account/archive.ts'
import { type AccountResult, toAccountResult } from '../src/account/errors.ts'
import { createD1RecordIndex } from '../src/account/record-index.ts'
import type { AccountSinks } from '../src/account/sinks.ts'
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
} from '../src/account/types.ts'
import { decryptPrivateKey } from '../src/auth/index.ts'
import { sequencerStub } from '../src/bindings.ts'
import { getConfig, requireSecret } from '../src/config.ts'

/**
 * One instance per account DID: the single writer of that account's repository. Thin glue
 * around `Account` (src/account/account.ts), which holds the logic.
 *
 * Methods that can be refused return an AccountResult (`unwrapAccountResult` on the caller's
 * side turns a refusal back into a RepoWriteError), since thrown errors lose their class
 * across RPC.
 */
export class AccountDurableObject extends DurableObject<Env> {
  readonly account: Account

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.account = new Account({
      storage: ctx.storage,
      sinks: accountSinks(env),
      setAlarm: (at) => {
        ctx.storage.setAlarm(at).catch((err) => console.error('account: setAlarm failed', err))
      },
      decryptSigningKey: (encrypted, did) =>
        decryptPrivateKey(encrypted, requireSecret(getConfig(env), 'keyEncryptionSecret'), did),
      wipe: async () => {
        await ctx.storage.deleteAlarm()
        await ctx.storage.deleteAll()
      },
    })
    void ctx.blockConcurrencyWhile(async () => {
      this.account.start(await ctx.storage.getAlarm())
    })
  }

  createRepo(input: CreateRepoInput): Promise<AccountResult<CommitRef>> {
    return toAccountResult(() => this.account.createRepo(input))
  }

  applyWrites(input: ApplyWritesInput): Promise<AccountResult<WriteResult>> {
    return toAccountResult(() => this.account.applyWrites(input))
  }

  /** importRepo, in three steps: a token, batches of blocks, then check and switch over. */
  beginImport(): Promise<AccountResult<string>> {
    return toAccountResult(() => this.account.beginImport())
  }

  stageImport(token: string, blocks: StoredBlock[]): Promise<AccountResult<null>> {
    return toAccountResult(async () => {
      this.account.stageImport(token, blocks)
      return null
    })
  }

  async abortImport(token: string): Promise<void> {
    this.account.abortImport(token)
  }

  finishImport(input: FinishImportInput): Promise<AccountResult<ImportResult>> {
    return toAccountResult(() => this.account.finishImport(input))
  }

  async getHead(): Promise<CommitRef | null> {
    return this.account.getHead()
  }

  async getStatus(): Promise<AccountStatusInfo | null> {
    return this.account.getStatus()
  }

  /** Blocks of the repo held here (not awaiting collection); null: no repo here. */
  async getBlockCount(): Promise<number | null> {
    return this.account.liveBlockCount()
  }

  /** Blocks stored here and their bytes (null: no repo here), for the admin overview. */
  async getStoredBlocks(): Promise<{ blocks: number; bytes: number } | null> {
    return this.account.storedBlocks()
  }

  setStatus(input: SetStatusInput): Promise<AccountResult<AccountStatusInfo>> {
    return toAccountResult(() => this.account.setStatus(input))
  }

  emitIdentity(input: { handle?: string | null }): Promise<AccountResult<null>> {
    return toAccountResult(async () => {
      await this.account.emitIdentity(input)
      return null
    })
  }

  /** `#sync` with the current head (the relay doctor); the rev announced, null if inactive. */
  emitSync(): Promise<AccountResult<string | null>> {
    return toAccountResult(() => this.account.emitSync())
  }

  deleteRepo(): Promise<AccountResult<null>> {
    return toAccountResult(async () => {
      await this.account.deleteRepo()
      return null
    })
  }

  async getRecordBlock(cid: string): Promise<Uint8Array | null> {
    return this.account.getBlock(cid)
  }

  async getBlocks(cids: string[]): Promise<GetBlocksResult> {
    return this.account.getBlocks(cids)
  }

  /** sync.getRepo: the repo as a CAR stream (null: no repo here). */
  async exportRepo(input: { since?: string | null }): Promise<ReadableStream<Uint8Array> | null> {
    return this.account.exportRepo(input.since ?? null)
  }

  /** sync.getRecord: the commit, the record's MST proof and the record, as CAR bytes. */
  async getRecordProof(input: { collection: string; rkey: string }): Promise<Uint8Array | null> {
    return this.account.recordProof(`${input.collection}/${input.rkey}`)
  }

  override async alarm(): Promise<void> {
    await this.account.runAlarm()
  }
}

function accountSinks(env: Env): AccountSinks {
  return {
    index: createD1RecordIndex(env.DB),
    sequencer: {
      appendEvents: (did, events) => sequencerStub(env).appendEvents(did, events),
    },
    archive: createR2CommitArchive(env.STORAGE),
  }
}
