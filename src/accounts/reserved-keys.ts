/**
 * Signing keys reserved before account creation (com.atproto.server.reserveSigningKey), so
 * that a migrating user can put the key this PDS will sign with into a PLC operation before
 * the account exists here. A reservation for a DID is taken by createAccount when that DID
 * moves here; one made without a DID is kept under the key's own did:key, as the reference
 * PDS does. Unclaimed reservations expire after RESERVED_KEY_TTL_MS.
 */
import { encryptPrivateKey } from '../auth/index.ts'
import { type Config, requireSecret } from '../config.ts'
import { Secp256k1Keypair } from '../crypto/index.ts'
import { getAccountByDid } from '../db/accounts.ts'
import type { Db } from '../db/index.ts'
import {
  deleteReservedKey,
  deleteReservedKeysCreatedBefore,
  getReservedKey,
  insertReservedKey,
} from '../db/reserved-keys.ts'

export const RESERVED_KEY_TTL_MS = 7 * 24 * 3600 * 1000

/** A key as createAccount stores it: public did:key and the private key, encrypted for `did`. */
export interface StoredSigningKey {
  signingKeyDid: string
  signingKeyEncrypted: string
}

/**
 * The did:key of the key reserved for `did` (the same one on every call while it lives), or
 * of a fresh reservation when no DID is given. A DID already hosted here answers the account's
 * own signing key: that is the key its DID document must name.
 */
export async function reserveSigningKey(
  db: Db,
  config: Config,
  did: string | null,
  nowMs = Date.now(),
): Promise<string> {
  if (did) {
    const account = await getAccountByDid(db, did)
    if (account && account.status !== 'deleted') return account.signingKeyDid
    const existing = await liveReservation(db, did, nowMs)
    if (existing) return existing.signingKeyDid
  }
  const key = await Secp256k1Keypair.create()
  const id = did ?? key.did()
  const row = await insertReservedKey(db, {
    id,
    signingKeyDid: key.did(),
    signingKeyEncrypted: await encryptPrivateKey(
      key.exportPrivateKey(),
      requireSecret(config, 'keyEncryptionSecret'),
      id,
    ),
    createdAt: new Date(nowMs).toISOString(),
  })
  return row.signingKeyDid
}

/** The live key reserved for `did`, encrypted for it as an account's key is; null if none. */
export async function reservedKeyFor(
  db: Db,
  did: string,
  nowMs = Date.now(),
): Promise<StoredSigningKey | null> {
  const row = await liveReservation(db, did, nowMs)
  return row
    ? { signingKeyDid: row.signingKeyDid, signingKeyEncrypted: row.signingKeyEncrypted }
    : null
}

/** Called once the account holds the key. */
export async function releaseReservedKey(db: Db, did: string): Promise<void> {
  await deleteReservedKey(db, did)
}

/** The cleanup job's part: reservations nobody claimed in time. */
export async function deleteExpiredReservedKeys(db: Db, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - RESERVED_KEY_TTL_MS).toISOString()
  await deleteReservedKeysCreatedBefore(db, cutoff)
}

async function liveReservation(db: Db, id: string, nowMs: number) {
  const row = await getReservedKey(db, id)
  if (!row) return null
  if (Date.parse(row.createdAt) + RESERVED_KEY_TTL_MS >= nowMs) return row
  await deleteReservedKey(db, id)
  return null
}
