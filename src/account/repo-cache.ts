/**
 * What the account object keeps in memory between requests: the repo's state row, the MST
 * (nodes stay decoded once a write has visited them) and the decrypted signing key. The
 * state row is read once at start; afterwards only a commit transaction changes it, and the
 * writer updates this copy right after.
 */
import { Secp256k1Keypair } from '../crypto/index.ts'
import { CID } from '../data/cid.ts'
import { Mst } from '../repo/mst/index.ts'
import type { SqlBlockStore } from './block-store.ts'
import type { BuiltCommit } from './commit-builder.ts'
import type { RepoState } from './repo-state.ts'

/** Decoded MST nodes accumulate in memory as writes visit them; start afresh now and then. */
const COMMITS_PER_TREE_LOAD = 1000

export type DecryptSigningKey = (encrypted: string, did: string) => Promise<Uint8Array>

export class RepoCache {
  state: RepoState | null
  private readonly blocks: SqlBlockStore
  private readonly decrypt: DecryptSigningKey
  private mst: Mst | null = null
  private keypair: Secp256k1Keypair | null = null
  private commitsSinceLoad = 0

  constructor(blocks: SqlBlockStore, decrypt: DecryptSigningKey, state: RepoState | null) {
    this.blocks = blocks
    this.decrypt = decrypt
    this.state = state
  }

  /** The tree at the head of `state`, loaded lazily from the block store. */
  tree(state: RepoState): Mst {
    this.mst ??= Mst.load(this.blocks, CID.parse(state.dataCid))
    return this.mst
  }

  async signingKey(state: RepoState): Promise<Secp256k1Keypair> {
    this.keypair ??= await Secp256k1Keypair.import(await this.decrypt(state.signingKey, state.did))
    return this.keypair
  }

  /** The key of a repo being created, checked by importing it; kept once it is committed. */
  async importKey(encrypted: string, did: string): Promise<Secp256k1Keypair> {
    return Secp256k1Keypair.import(await this.decrypt(encrypted, did))
  }

  keepKey(key: Secp256k1Keypair): void {
    this.keypair = key
  }

  /** After a commit transaction: the new state, and the tree the commit built. */
  committed(state: RepoState, built: BuiltCommit | null): void {
    this.state = state
    if (!built) return
    built.mst.markStored()
    this.mst = built.mst
    if (++this.commitsSinceLoad >= COMMITS_PER_TREE_LOAD) {
      this.mst = null
      this.commitsSinceLoad = 0
    }
  }

  /** After an import replaced the whole repo: the new state; its tree is read afresh. */
  replaced(state: RepoState): void {
    this.state = state
    this.mst = null
    this.commitsSinceLoad = 0
  }

  /** The repo is gone (deleted and wiped). */
  clear(): void {
    this.state = null
    this.mst = null
    this.keypair = null
  }
}
