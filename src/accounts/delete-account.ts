/**
 * Deleting an account for good, whoever asked (the owner with deleteAccount, the operator with
 * com.atproto.admin.deleteAccount): the account object emits `#account` deleted and wipes the
 * repo; then the account's older events leave the replay window (so relays stop
 * redistributing its records), its blobs, the record index and its D1 rows go. Every step is
 * idempotent, so a failed deletion is finished by repeating it.
 */
import { accountStub, sequencerStub, unwrapAccount } from '../bindings.ts'
import { deleteAccountBlobs } from '../blobs/gc.ts'
import { deleteAccountRows } from '../db/accounts.ts'
import { getDb } from '../db/index.ts'

export async function deleteAccountEverywhere(env: Env, did: string): Promise<void> {
  await unwrapAccount(accountStub(env, did).deleteRepo())
  await sequencerStub(env).purgeAccount(did)
  await deleteAccountBlobs(env, did)
  await deleteAccountRows(getDb(env.DB), did)
}
