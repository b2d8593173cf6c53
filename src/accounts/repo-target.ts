/**
 * The `repo` parameter of repo methods (a handle or a DID) resolved to a local account, with
 * the status rules: only the account itself writes its repo, and a repo that is not active
 * is not served.
 */
import type { AccountRow } from '../db/accounts.ts'
import { getAccountByDid, getAccountByHandle } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import { NotAllowedError, RequestRefusedError } from '../errors.ts'

/** A repo that is not here or not served: RepoNotFound, RepoDeactivated, ... */
export class RepoUnavailableError extends RequestRefusedError {
  override name = 'RepoUnavailableError'
}

/** A write to another account's repo. */
export class NotYourRepoError extends NotAllowedError {
  override name = 'NotYourRepoError'
}

/** The DID a write may go to: the caller's own repo, named by DID or by handle. */
export async function resolveRepoForWrite(
  db: Db,
  callerDid: string,
  repo: string,
): Promise<string> {
  if (repo === callerDid) return callerDid
  const row = repo.startsWith('did:')
    ? await getAccountByDid(db, repo)
    : await getAccountByHandle(db, repo)
  if (!row) throw new RepoUnavailableError(`Could not find repo: ${repo}`, 'RepoNotFound')
  if (row.did !== callerDid) throw new NotYourRepoError('You can only write to your own repo')
  return callerDid
}

/**
 * The account behind `repo` if its data may be served; RepoNotFound/RepoDeactivated/... The
 * account itself (`callerDid`) still reads its deactivated repo: after moving to another host
 * it exports what it left behind.
 */
export async function resolveRepoForRead(
  db: Db,
  repo: string,
  callerDid: string | null = null,
): Promise<AccountRow> {
  const row = repo.startsWith('did:')
    ? await getAccountByDid(db, repo)
    : await getAccountByHandle(db, repo)
  if (row && callerDid === row.did && row.status === 'deactivated') return row
  return ensureReadable(row, repo)
}

/**
 * resolveRepoForRead's rules on an account already read (by a query that fetched the data
 * with it): RepoNotFound when missing or deleted, then the status errors.
 */
export function ensureReadable<T extends Pick<AccountRow, 'did' | 'status'>>(
  row: T | null,
  repo: string,
): T {
  if (!row || row.status === 'deleted') {
    throw new RepoUnavailableError(`Could not find repo: ${repo}`, 'RepoNotFound')
  }
  ensureServable(row)
  return row
}

export function ensureServable(row: Pick<AccountRow, 'did' | 'status'>): void {
  switch (row.status) {
    case 'active':
      return
    case 'deactivated':
      throw new RepoUnavailableError(`Repo has been deactivated: ${row.did}`, 'RepoDeactivated')
    case 'takendown':
      throw new RepoUnavailableError(`Repo has been takendown: ${row.did}`, 'RepoTakendown')
    case 'suspended':
      throw new RepoUnavailableError(`Repo has been suspended: ${row.did}`, 'RepoSuspended')
    default:
      throw new RepoUnavailableError(`Could not find repo: ${row.did}`, 'RepoNotFound')
  }
}
