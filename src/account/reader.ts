/**
 * Reads served by the account object: the head and status, blocks, the repo as a CAR stream
 * (sync.getRepo) and record proofs (sync.getRecord). Nothing here takes the writer's lock:
 * each read sees the head as of its start.
 */
import { CID } from '../data/cid.ts'
import type { SqlStorageLike } from '../storage/sql.ts'
import type { AccountAlarm } from './alarm.ts'
import type { BlockGarbage } from './block-garbage.ts'
import type { SqlBlockStore } from './block-store.ts'
import type { RepoCache } from './repo-cache.ts'
import { commitAtRevFromSql, readBlocksFromSql, recordProofCar, repoCarStream } from './repo-car.ts'
import { headRef, statusInfo } from './repo-state.ts'
import type { AccountStatusInfo, CommitRef, GetBlocksResult } from './types.ts'

export type ReaderParts = {
  storage: SqlStorageLike
  blocks: SqlBlockStore
  garbage: BlockGarbage
  cache: RepoCache
  alarm: AccountAlarm
}

export class AccountReader {
  private readonly parts: ReaderParts

  constructor(parts: ReaderParts) {
    this.parts = parts
  }

  getHead(): CommitRef | null {
    const { state } = this.parts.cache
    return state ? headRef(state) : null
  }

  getStatus(): AccountStatusInfo | null {
    const { state } = this.parts.cache
    return state ? statusInfo(state) : null
  }

  getBlock(cid: string): Uint8Array | null {
    if (!this.parts.cache.state) return null
    return this.parts.blocks.getSync(cid)
  }

  getBlocks(cids: string[]): GetBlocksResult {
    const { cache, blocks } = this.parts
    const out: GetBlocksResult = { blocks: [], missing: [] }
    for (const cid of cids) {
      const bytes = cache.state ? blocks.getSync(cid) : null
      if (bytes) out.blocks.push({ cid, bytes })
      else out.missing.push(cid)
    }
    return out
  }

  /**
   * The repo at its head as a CAR stream; with `since`, only the blocks new after that rev.
   * Blocks are read as the stream is, so no sweep runs until it ends.
   */
  exportRepo(since: string | null): ReadableStream<Uint8Array> | null {
    const { storage, blocks, garbage, cache, alarm } = this.parts
    if (!cache.state) return null
    const head = cache.state.commitCid
    const commitAtRev = commitAtRevFromSql(storage.sql)
    const stream = repoCarStream(blocks, CID.parse(head), {
      since,
      // An older commit whose whole tree is known to be stored: one marked as garbage and not
      // swept yet (the sweep deletes a commit before any node of its tree). Any other (one
      // stored before GC, whose nodes may be gone) gets the whole repo, the safe answer.
      commitAtRev: async (rev) => {
        const cid = await commitAtRev(rev)
        if (!cid) return null
        const id = cid.toString()
        return id === head || garbage.isMarkedCommit(id) ? cid : null
      },
      readBlocks: readBlocksFromSql(storage.sql),
    })
    const id = alarm.exportOpened()
    return leased(stream, {
      read: () => alarm.exportRead(id),
      done: () => alarm.exportClosed(id),
    })
  }

  /** A CAR proving the record at `path` present (with the record) or absent, at the head. */
  async recordProof(path: string): Promise<Uint8Array | null> {
    const { state } = this.parts.cache
    if (!state) return null
    return recordProofCar(this.parts.blocks, CID.parse(state.commitCid), path)
  }

  /** Blocks stored and not awaiting collection: com.atproto.server.checkAccountStatus. */
  liveBlockCount(): number | null {
    return this.parts.cache.state ? this.parts.garbage.liveBlockCount() : null
  }

  /** Every block the object stores for the repo, and their bytes (the admin overview). */
  storedBlocks(): { blocks: number; bytes: number } | null {
    if (!this.parts.cache.state) return null
    const row = this.parts.storage.sql
      .exec<{ blocks: number; bytes: number | null }>(
        'SELECT count(*) AS blocks, sum(length(bytes)) AS bytes FROM block',
      )
      .one()
    return { blocks: row.blocks, bytes: row.bytes ?? 0 }
  }

  /** The stored blocks a sweep will delete once their time comes. */
  pendingGarbage(): Set<string> {
    return this.parts.garbage.pendingSync()
  }
}

/**
 * The same stream, calling `done` once when it ends, fails or is cancelled, and failing a read
 * that `read` refuses (the stream sat idle too long: the blocks it needs may be gone).
 */
function leased(
  stream: ReadableStream<Uint8Array>,
  lease: { read: () => boolean; done: () => void },
): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    lease.done()
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!lease.read()) throw new Error('repo export stream was idle too long')
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
          void reader.cancel(err).catch(() => {})
        }
      },
      async cancel(reason) {
        end()
        await reader.cancel(reason)
      },
    },
    // Read only when the consumer asks: a pull is a sign of life.
    { highWaterMark: 0 },
  )
}
