/**
 * The account's single state row: identity, signing key, repo head and status. The head
 * only ever changes inside a commit transaction, together with the blocks it names.
 */
import type { SqlLike } from '../storage/sql.ts'
import type { AccountStatusInfo, CommitRef, InactiveStatus } from './types.ts'

export type RepoState = {
  did: string
  handle: string | null
  signingKey: string
  commitCid: string
  rev: string
  dataCid: string
  active: boolean
  status: InactiveStatus | null
  /** Outbox ids only grow, across the object's whole life (see Outbox). */
  lastOutboxId: number
}

type StateRow = {
  did: string
  handle: string | null
  signing_key: string
  commit_cid: string
  rev: string
  data_cid: string
  active: number
  status: string | null
  last_outbox_id: number
}

export function readRepoState(sql: SqlLike): RepoState | null {
  const row = sql.exec<StateRow>('SELECT * FROM repo_state WHERE id = 1').toArray()[0]
  if (!row) return null
  return {
    did: row.did,
    handle: row.handle,
    signingKey: row.signing_key,
    commitCid: row.commit_cid,
    rev: row.rev,
    dataCid: row.data_cid,
    active: row.active === 1,
    status: row.status as InactiveStatus | null,
    lastOutboxId: row.last_outbox_id,
  }
}

export function writeRepoState(sql: SqlLike, state: RepoState): void {
  sql.exec(
    `INSERT INTO repo_state
       (id, did, handle, signing_key, commit_cid, rev, data_cid, active, status, last_outbox_id)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       did = excluded.did, handle = excluded.handle, signing_key = excluded.signing_key,
       commit_cid = excluded.commit_cid, rev = excluded.rev, data_cid = excluded.data_cid,
       active = excluded.active, status = excluded.status,
       last_outbox_id = excluded.last_outbox_id`,
    state.did,
    state.handle,
    state.signingKey,
    state.commitCid,
    state.rev,
    state.dataCid,
    state.active ? 1 : 0,
    state.status,
    state.lastOutboxId,
  )
}

export function headRef(state: RepoState): CommitRef {
  return { cid: state.commitCid, rev: state.rev }
}

export function statusInfo(state: RepoState): AccountStatusInfo {
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
