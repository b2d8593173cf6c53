/**
 * Account signing keys for service-auth tokens, decrypted once per isolate and kept in a small
 * LRU, so a busy account's proxied calls do not each pay for an AES-GCM decryption and key
 * import. An entry is keyed by DID and checked against the row's public key, so a rotated key
 * is picked up at once.
 */
import { decryptPrivateKey } from '../auth/key-encryption.ts'
import { type Config, requireSecret } from '../config.ts'
import { parseDidKey } from '../crypto/did-key.ts'
import type { Keypair } from '../crypto/keypair.ts'
import { P256Keypair } from '../crypto/p256-keypair.ts'
import { Secp256k1Keypair } from '../crypto/secp256k1-keypair.ts'

export const SIGNING_KEY_CACHE_SIZE = 500

export interface AccountKeyRow {
  did: string
  signingKeyEncrypted: string
  /** The public key (did:key), which also says the curve. */
  signingKeyDid: string
}

interface Entry {
  signingKeyDid: string
  keypair: Promise<Keypair>
}

const cache = new Map<string, Entry>()

/** The account's signing keypair, from the cache or decrypted now. */
export function accountKeypair(config: Config, account: AccountKeyRow): Promise<Keypair> {
  const cached = cache.get(account.did)
  if (cached && cached.signingKeyDid === account.signingKeyDid) {
    // Re-insert: a Map iterates in insertion order, so the first key is the least recent.
    cache.delete(account.did)
    cache.set(account.did, cached)
    return cached.keypair
  }
  const keypair = importKey(config, account)
  cache.set(account.did, { signingKeyDid: account.signingKeyDid, keypair })
  keypair.catch(() => {
    if (cache.get(account.did)?.keypair === keypair) cache.delete(account.did)
  })
  while (cache.size > SIGNING_KEY_CACHE_SIZE) {
    const oldest = cache.keys().next().value
    if (oldest === undefined) break
    cache.delete(oldest)
  }
  return keypair
}

/** Forgets every cached key (tests, and after an operator rotates the encryption secret). */
export function clearSigningKeyCache(): void {
  cache.clear()
}

async function importKey(config: Config, account: AccountKeyRow): Promise<Keypair> {
  const secret = requireSecret(config, 'keyEncryptionSecret')
  const privateKey = await decryptPrivateKey(account.signingKeyEncrypted, secret, account.did)
  const { jwtAlg } = parseDidKey(account.signingKeyDid)
  return jwtAlg === 'ES256' ? P256Keypair.import(privateKey) : Secp256k1Keypair.import(privateKey)
}
