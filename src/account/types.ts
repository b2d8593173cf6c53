/**
 * What crosses the account Durable Object's RPC boundary. Everything here is structured-
 * cloneable: strings, numbers, booleans, Uint8Arrays and plain objects (no CID instances).
 */

/** `put` creates the record or updates it, whichever applies at commit time (putRecord). */
export type WriteAction = 'create' | 'update' | 'delete' | 'put'

export type PreparedWrite = {
  action: WriteAction
  collection: string
  rkey: string
  /** DAG-CBOR bytes of the record (create, update, put), already validated by the Worker. */
  record?: Uint8Array
  /** CID of `record`, if the caller computed it; checked against the bytes. */
  cid?: string
  /** undefined: no check; null: the record must not exist; a CID: the current version. */
  swapRecord?: string | null
}

export type ApplyWritesInput = {
  writes: PreparedWrite[]
  /** The commit CID the repo must be at; undefined or null: no check. */
  swapCommit?: string | null
  /** Rate limits this write counts against, before its commit (`write-limits.ts`). */
  limits?: WriteLimit[]
}

/** A fixed-window limit a write takes `cost` points of; refused past `max` in the window. */
export type WriteLimit = { key: string; windowSeconds: number; max: number; cost: number }

export type CommitRef = { cid: string; rev: string }

export type WriteOutcome = {
  /** `put` is reported as what it did. */
  action: 'create' | 'update' | 'delete'
  uri: string
  /** The record CID (create, update). */
  cid?: string
}

export type WriteResult = {
  commit: CommitRef
  results: WriteOutcome[]
  /**
   * Whether the D1 record index and the event log had this commit when the answer was given.
   * False only when delivery was not done by its deadline (DELIVERY_DEADLINE_MS): the commit
   * is durable and the outbox keeps retrying (alarm), but a read right after may not see it.
   */
  indexed: boolean
  /**
   * When indexed, a D1 bookmark at or after the index batch that carried the commit: the
   * writer's client gets it (`x-d1-bookmark`) to read its write from a replica.
   */
  bookmark: string | null
}

export type CreateRepoInput = {
  did: string
  handle: string
  /**
   * The secp256k1 signing key encrypted with PDS_KEY_ENCRYPTION_SECRET and bound to `did`
   * (src/auth/key-encryption.ts), exactly as stored in D1; it stays encrypted at rest here too.
   */
  signingKey: string
  /**
   * false creates the repo deactivated (account migration): nothing is emitted until the
   * account is activated. Default true.
   */
  active?: boolean
}

/** Inactive statuses, as `#account` names them. */
export type InactiveStatus = 'deactivated' | 'takendown' | 'suspended' | 'deleted'

export type SetStatusInput = { active: boolean; status?: InactiveStatus }

export type AccountStatusInfo = {
  did: string
  handle: string | null
  active: boolean
  status?: InactiveStatus
  /** The repo head. */
  cid: string
  rev: string
}

export type StoredBlock = { cid: string; bytes: Uint8Array }

export type GetBlocksResult = { blocks: StoredBlock[]; missing: string[] }

export type FinishImportInput = {
  /** From beginImport: the blocks staged under it are the import's. */
  token: string
  /** The CAR's one root, the imported commit. */
  root: string
  /**
   * Whether the imported commit's signature matches the DID document's current signing key
   * (null: the document could not be read). Recorded, not required: a restore from a backup
   * carries an older key's signature.
   */
  signatureValid: boolean | null
}

export type ImportResult = {
  /** The fresh commit, signed by the account's key here, over the imported tree. */
  commit: CommitRef
  /** Whether the D1 record index had the whole new tree when answered (see import-index.ts). */
  indexed: boolean
}
