/**
 * Takedowns and the operator's account changes (com.atproto.admin.*), with the reference
 * PDS's effects:
 * - an account taken down: the account object goes inactive (`#account` takendown, writes
 *   refused), D1's status makes every repo and blob read answer RepoTakendown, its sessions
 *   end (refresh tokens deleted; access tokens are refused by their status check); the owner
 *   can still sign in with `allowTakendown` for a token that only gets the createAccount
 *   service-auth token to migrate away. Reversal makes it active again (`#account`,
 *   `#identity`, `#sync`).
 * - a record: hidden from getRecord and listRecords (the repo keeps it).
 * - a blob: not served; its bytes stay in R2 and are served again after reversal.
 */
import type { InactiveStatus } from '../account/types.ts'
import { accountStub, unwrapAccount } from '../bindings.ts'
import {
  type AccountRow,
  getAccountByDid,
  getAccountByHandle,
  setAccountStatus,
} from '../db/accounts.ts'
import { getDb } from '../db/index.ts'
import {
  deleteRefreshTokensOf,
  type RecordKey,
  setAccountTakedownRef,
  setBlobTakedownRef,
  setRecordTakedownRef,
} from '../db/moderation.ts'
import { RequestRefusedError } from '../errors.ts'
import { AtUri } from '../syntax/index.ts'

export interface StatusAttr {
  applied: boolean
  ref?: string
}

/** A subject the admin names that this PDS does not hold. */
export class SubjectNotFoundError extends RequestRefusedError {
  override name = 'SubjectNotFoundError'
}

export async function requireAccount(env: Env, did: string): Promise<AccountRow> {
  const account = await getAccountByDid(getDb(env.DB), did)
  if (!account || account.status === 'deleted') {
    throw new SubjectNotFoundError(`Account not found: ${did}`, 'AccountNotFound')
  }
  return account
}

/**
 * Applies an account subject's takedown and deactivation in one call. Taking an account down
 * while activating it is refused: the two contradict each other.
 */
export async function updateAccountModeration(
  env: Env,
  did: string,
  change: { takedown?: StatusAttr; deactivated?: StatusAttr },
): Promise<AccountRow> {
  const { takedown, deactivated } = change
  if (takedown?.applied && deactivated && !deactivated.applied) {
    throw new RequestRefusedError('Cannot take down and activate an account in one call')
  }
  let account = await requireAccount(env, did)
  if (deactivated && account.status !== 'takendown') {
    if (deactivated.applied) await setObjectAndRow(env, account, 'deactivated')
    else if (account.status === 'deactivated') await setObjectAndRow(env, account, 'active')
  }
  if (takedown) {
    account = await requireAccount(env, did)
    await setTakedown(env, account, takedown)
  }
  return requireAccount(env, did)
}

async function setTakedown(env: Env, account: AccountRow, takedown: StatusAttr): Promise<void> {
  const db = getDb(env.DB)
  if (takedown.applied) {
    await setObjectAndRow(env, account, 'takendown')
    await setAccountTakedownRef(db, account.did, takedown.ref ?? defaultRef())
    await deleteRefreshTokensOf(db, account.did)
  } else if (account.status === 'takendown') {
    await setObjectAndRow(env, account, 'active')
    await setAccountTakedownRef(db, account.did, null)
  }
}

/** The account object first (it emits the events), then the row that reads consult. */
async function setObjectAndRow(
  env: Env,
  account: AccountRow,
  status: InactiveStatus | 'active',
): Promise<void> {
  await unwrapAccount(
    accountStub(env, account.did).setStatus(
      status === 'active' ? { active: true } : { active: false, status },
    ),
  )
  const now = new Date().toISOString()
  const since = status === account.status ? (account.deactivatedAt ?? now) : now
  await setAccountStatus(getDb(env.DB), account.did, status, since)
}

export async function setRecordTakedown(
  env: Env,
  key: RecordKey,
  takedown: StatusAttr,
): Promise<void> {
  const ref = takedown.applied ? (takedown.ref ?? defaultRef()) : null
  if (!(await setRecordTakedownRef(getDb(env.DB), key, ref))) {
    throw new SubjectNotFoundError(
      `Record not found: at://${key.did}/${key.collection}/${key.rkey}`,
      'RecordNotFound',
    )
  }
}

export async function setBlobTakedown(
  env: Env,
  did: string,
  cid: string,
  takedown: StatusAttr,
): Promise<void> {
  const ref = takedown.applied ? (takedown.ref ?? defaultRef()) : null
  if (!(await setBlobTakedownRef(getDb(env.DB), did, cid, ref))) {
    throw new SubjectNotFoundError(`Blob not found: ${cid}`, 'BlobNotFound')
  }
}

/** A record's at:// URI (its host a DID or a handle of ours) as the index keys it. */
export async function recordKeyOf(env: Env, uri: string): Promise<RecordKey> {
  let parsed: AtUri
  try {
    parsed = AtUri.parse(uri)
  } catch {
    throw new RequestRefusedError(`Not a valid at:// URI: ${uri}`)
  }
  if (parsed.collection === undefined || parsed.rkey === undefined) {
    throw new RequestRefusedError(`Not a record URI: ${uri}`)
  }
  const db = getDb(env.DB)
  const account = parsed.host.startsWith('did:')
    ? await getAccountByDid(db, parsed.host)
    : await getAccountByHandle(db, parsed.host)
  if (!account) throw new SubjectNotFoundError(`Record not found: ${uri}`, 'RecordNotFound')
  return { did: account.did, collection: parsed.collection, rkey: parsed.rkey }
}

/** The reference PDS stores a takedown without a ref as applied all the same. */
function defaultRef(): string {
  return `takedown:${new Date().toISOString()}`
}
