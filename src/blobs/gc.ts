/**
 * Keeping R2 to the blobs records use, plus recent uploads.
 *
 * D1 decides, R2 follows: a blob row is deleted in D1 first (its last reference went, it stayed
 * temporary past the grace period, or its account was deleted), and a trigger queues its
 * object in `blob_deletion` in the same transaction. Only then does the sweep delete queued
 * objects from R2 and take them off the queue. Keys are never reused, so a queued key can
 * never be a live blob's, and a sweep interrupted half way just runs again.
 */
import { type Config, getConfig } from '../config.ts'
import {
  accountBlobDeletions,
  clearBlobDeletions,
  deleteAccountBlobRows,
  deleteExpiredTempBlobs,
  dueBlobDeletions,
} from '../db/blobs.ts'
import { getDb } from '../db/index.ts'
import type { ScheduledJob } from '../scheduled.ts'
import { blobPrefix } from './keys.ts'

/** R2 deletes at most 1000 keys a call. */
const KEYS_PER_ROUND = 1000
/** Bounds one run's D1 queries; what is left waits for the next run (every 10 minutes). */
const MAX_ROUNDS = 10

/** Deletes temporary blobs older than the grace period; returns how many. */
export async function collectTempBlobs(env: Env, config: Config, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - config.blobTempGraceSeconds * 1000).toISOString()
  const db = getDb(env.DB)
  let total = 0
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const deleted = await deleteExpiredTempBlobs(db, cutoff, KEYS_PER_ROUND)
    total += deleted
    if (deleted < KEYS_PER_ROUND) break
  }
  return total
}

/** Deletes the queued objects whose time has come from R2; returns how many. */
export async function sweepBlobDeletions(env: Env, now: Date): Promise<number> {
  const db = getDb(env.DB)
  let total = 0
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const keys = await dueBlobDeletions(db, now.toISOString(), KEYS_PER_ROUND)
    if (keys.length === 0) break
    await env.STORAGE.delete(keys)
    await clearBlobDeletions(db, keys)
    total += keys.length
    if (keys.length < KEYS_PER_ROUND) break
  }
  return total
}

/**
 * Account deletion: every blob of the account, in D1 and then in R2 (objects of uploads that
 * never got a row included). Idempotent; call it after the account's records are gone.
 */
export async function deleteAccountBlobs(env: Env, did: string): Promise<void> {
  const db = getDb(env.DB)
  await deleteAccountBlobRows(db, did)
  for (;;) {
    const keys = await accountBlobDeletions(db, did, KEYS_PER_ROUND)
    if (keys.length === 0) break
    await env.STORAGE.delete(keys)
    await clearBlobDeletions(db, keys)
  }
  let cursor: string | undefined
  do {
    const page = await env.STORAGE.list({ prefix: blobPrefix(did), cursor, limit: KEYS_PER_ROUND })
    if (page.objects.length > 0) await env.STORAGE.delete(page.objects.map((o) => o.key))
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
}

/** The scheduled job: expired temporary blobs, then queued R2 deletions. */
export async function runBlobCollector(env: Env, config: Config, now: Date): Promise<void> {
  await collectTempBlobs(env, config, now)
  await sweepBlobDeletions(env, now)
}

export const blobCollectorJob: ScheduledJob = {
  name: 'blob-collector',
  run: (env, now) => runBlobCollector(env, getConfig(env), now),
}
