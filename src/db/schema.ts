/**
 * The D1 schema (drizzle-orm). `npm run db:generate` turns changes here into SQL migrations
 * in `migrations/`, which wrangler applies (`npm run dev`, tests, deploys).
 *
 * D1 holds what must be queryable across accounts: accounts and credentials, and the record
 * index that serves `getRecord`/`listRecords` without waking an account's Durable Object.
 * The repository itself (blocks, head) belongs to the account's Durable Object and R2.
 */
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Account status as the sync spec names it; `active` when none applies. */
export type AccountStatus = 'active' | 'deactivated' | 'takendown' | 'suspended' | 'deleted'

export const account = sqliteTable('account', {
  did: text('did').primaryKey(),
  /** Lowercase; unique among accounts on this host. */
  handle: text('handle').notNull().unique(),
  /** Lowercase. */
  email: text('email').unique(),
  emailConfirmedAt: text('email_confirmed_at'),
  /** A self-describing slow hash (see src/auth/password.ts). */
  passwordHash: text('password_hash').notNull(),
  /** The account's repo signing key, encrypted with PDS_KEY_ENCRYPTION_SECRET. */
  signingKeyEncrypted: text('signing_key_encrypted').notNull(),
  /** Public did:key of the signing key, for checks that must not decrypt. */
  signingKeyDid: text('signing_key_did').notNull(),
  status: text('status').$type<AccountStatus>().notNull().default('active'),
  createdAt: text('created_at').notNull(),
  deactivatedAt: text('deactivated_at'),
  /** When a deactivated account asked to be deleted (deactivateAccount `deleteAfter`). */
  deleteAfter: text('delete_after'),
  takedownRef: text('takedown_ref'),
  /** Set by the operator (disableAccountInvites): the account's codes stop working. */
  invitesDisabled: integer('invites_disabled', { mode: 'boolean' }).notNull().default(false),
  /** Sign-in needs a code mailed to the (confirmed) address besides the password. */
  emailAuthFactor: integer('email_auth_factor', { mode: 'boolean' }).notNull().default(false),
})

export const appPassword = sqliteTable(
  'app_password',
  {
    did: text('did').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    privileged: integer('privileged', { mode: 'boolean' }).notNull().default(false),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.did, t.name] })],
)

/** Refresh tokens are single use: a refresh deletes its row and inserts the next one. */
export const refreshToken = sqliteTable(
  'refresh_token',
  {
    id: text('id').primaryKey(),
    did: text('did').notNull(),
    /** Set when the session was opened with an app password; revoking it ends the session. */
    appPasswordName: text('app_password_name'),
    expiresAt: text('expires_at').notNull(),
    /**
     * Set once the token has been used: the id of the token it was exchanged for. Until its
     * grace ends, using it again gives a session with that same next token.
     */
    nextId: text('next_id'),
  },
  (t) => [index('refresh_token_did_idx').on(t.did)],
)

export const inviteCode = sqliteTable('invite_code', {
  code: text('code').primaryKey(),
  availableUses: integer('available_uses').notNull(),
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  forAccount: text('for_account').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: text('created_at').notNull(),
})

export const inviteCodeUse = sqliteTable(
  'invite_code_use',
  {
    code: text('code').notNull(),
    usedBy: text('used_by').notNull(),
    usedAt: text('used_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.code, t.usedBy] })],
)

/** One-off tokens sent to the user (account deletion, email confirmation...). */
export const accountToken = sqliteTable(
  'account_token',
  {
    did: text('did').notNull(),
    purpose: text('purpose').notNull(),
    token: text('token').notNull(),
    requestedAt: text('requested_at').notNull(),
    /** Wrong tokens tried against this one; past a few it is burnt. */
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.did, t.purpose] }),
    index('account_token_purpose_token_idx').on(t.purpose, t.token),
  ],
)

/** The development mailbox (`PDS_MAILER=dev`): every mail the local PDS sent. */
export const devMail = sqliteTable(
  'dev_mail',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: text('message_id').notNull(),
    sentAt: text('sent_at').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
  },
  (t) => [index('dev_mail_to_idx').on(t.toAddress)],
)

/** The head of each repo as last indexed: serves listRepos and getLatestCommit. */
export const repoRoot = sqliteTable('repo_root', {
  did: text('did').primaryKey(),
  cid: text('cid').notNull(),
  rev: text('rev').notNull(),
  indexedAt: text('indexed_at').notNull(),
})

/** The record index, kept in step with each repo's head from the account's outbox. */
export const record = sqliteTable(
  'record',
  {
    did: text('did').notNull(),
    collection: text('collection').notNull(),
    rkey: text('rkey').notNull(),
    cid: text('cid').notNull(),
    /** The record in atproto JSON form, served as is by getRecord/listRecords. */
    value: text('value').notNull(),
    rev: text('rev').notNull(),
    indexedAt: text('indexed_at').notNull(),
    /** Set while moderation hides the record (kept across updates, gone with the record). */
    takedownRef: text('takedown_ref'),
  },
  (t) => [primaryKey({ columns: [t.did, t.collection, t.rkey] })],
)

/** Fixed-window counters for abuse controls (login and sign-up attempts). */
export const rateLimit = sqliteTable('rate_limit', {
  key: text('key').primaryKey(),
  windowStart: integer('window_start').notNull(),
  count: integer('count').notNull(),
})

/**
 * Uploaded blobs, one row per (account, CID). The bytes live in R2 under `key`
 * (`blob/<did>/<upload id>`): each upload streams to a key of its own, so no object is ever
 * renamed, copied or overwritten. `temp` until a record references the blob (see
 * `record_blob`); temporary blobs past the grace period are collected (src/blobs/gc.ts).
 *
 * Triggers (migration 0003) keep the rest in step: a new reference makes the blob permanent,
 * losing the last one deletes its row, and every deleted row queues its R2 object in
 * `blob_deletion` and updates `blob_usage`.
 */
export const blob = sqliteTable(
  'blob',
  {
    did: text('did').notNull(),
    cid: text('cid').notNull(),
    key: text('key').notNull().unique(),
    mimeType: text('mime_type').notNull(),
    size: integer('size').notNull(),
    temp: integer('temp', { mode: 'boolean' }).notNull(),
    createdAt: text('created_at').notNull(),
    /** Set while moderation withholds the blob: not served, its bytes kept. */
    takedownRef: text('takedown_ref'),
  },
  (t) => [primaryKey({ columns: [t.did, t.cid] }), index('blob_temp_idx').on(t.temp, t.createdAt)],
)

/**
 * Which record references which blob, from the record index (src/account/record-index.ts).
 * `rev` is the rev of the record version that last referenced it; a reference may name a
 * blob this PDS does not hold (an imported repo), which listMissingBlobs reports.
 */
export const recordBlob = sqliteTable(
  'record_blob',
  {
    did: text('did').notNull(),
    collection: text('collection').notNull(),
    rkey: text('rkey').notNull(),
    blobCid: text('blob_cid').notNull(),
    rev: text('rev').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.did, t.collection, t.rkey, t.blobCid] }),
    index('record_blob_cid_idx').on(t.did, t.blobCid),
  ],
)

/** Per-account blob storage (every blob row, temporary ones included), kept by triggers. */
export const blobUsage = sqliteTable('blob_usage', {
  did: text('did').primaryKey(),
  blobCount: integer('blob_count').notNull(),
  blobBytes: integer('blob_bytes').notNull(),
})

/**
 * R2 objects to delete once `not_before` has passed: objects of deleted blob rows (at once),
 * and every upload in progress (a day later, in case the Worker dies before its row exists).
 * A key here is never the key of a live blob row, so deleting it from R2 is always safe.
 */
export const blobDeletion = sqliteTable(
  'blob_deletion',
  {
    key: text('key').primaryKey(),
    did: text('did').notNull(),
    notBefore: text('not_before').notNull(),
  },
  (t) => [
    index('blob_deletion_time_idx').on(t.notBefore),
    index('blob_deletion_did_idx').on(t.did),
  ],
)

/** `jti`s of service-auth tokens already used, kept until the token expires (replay guard). */
export const usedJti = sqliteTable(
  'used_jti',
  {
    /** `<iss>:<jti>` */
    id: text('id').primaryKey(),
    /** Seconds since the epoch, the token's `exp`. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('used_jti_expires_idx').on(t.expiresAt)],
)

/**
 * Private preferences of an account (`app.bsky.actor.putPreferences`): kept here, never in
 * the repo. One row per preference object, in the order the client sent them.
 */
export const accountPref = sqliteTable(
  'account_pref',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    did: text('did').notNull(),
    /** The preference's `$type`, e.g. `app.bsky.actor.defs#savedFeedsPrefV2`. */
    type: text('type').notNull(),
    /** The preference object, JSON. */
    value: text('value').notNull(),
  },
  (t) => [index('account_pref_did_idx').on(t.did)],
)

/** Sessions of the admin web page, by the hash of the cookie's value. */
export const adminSession = sqliteTable('admin_session', {
  idHash: text('id_hash').primaryKey(),
  csrf: text('csrf').notNull(),
  expiresAt: text('expires_at').notNull(),
})

/** A daily snapshot of totals, for the admin page's charts (src/admin/daily-stats.ts). */
export const dailyStat = sqliteTable('daily_stat', {
  day: text('day').primaryKey(),
  /** The firehose's last seq that day: writes per day are the differences. */
  lastSeq: integer('last_seq').notNull(),
  accounts: integer('accounts').notNull(),
  records: integer('records').notNull(),
  recordBytes: integer('record_bytes').notNull(),
  blobBytes: integer('blob_bytes').notNull(),
  /** Repo blocks held by the account objects (the sum of `repo_size`). */
  blockBytes: integer('block_bytes').notNull().default(0),
})

/**
 * Each repo's blocks in its account object, measured by the Cron Trigger once the repo has
 * changed (src/admin/repo-sizes.ts), so the admin overview sums D1 instead of every object.
 */
export const repoSize = sqliteTable('repo_size', {
  did: text('did').primaryKey(),
  blocks: integer('blocks').notNull(),
  blockBytes: integer('block_bytes').notNull(),
  measuredAt: text('measured_at').notNull(),
})

/** The relay doctor's last report on each relay (JSON), for the Federation page. */
export const relayStatus = sqliteTable('relay_status', {
  relay: text('relay').primaryKey(),
  checkedAt: text('checked_at').notNull(),
  report: text('report').notNull(),
})

/**
 * A pushed authorization request (src/oauth/par.ts): its parameters until the browser
 * finishes, then the code it issued (stored hashed) until the client redeems it once.
 * Times are epoch seconds.
 */
export const oauthRequest = sqliteTable(
  'oauth_request',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    /** JSON: how the client authenticated at PAR (`none`, or `private_key_jwt` and its `kid`). */
    clientAuth: text('client_auth').notNull(),
    /** JSON: the validated authorization request. */
    parameters: text('parameters').notNull(),
    /** Thumbprint of the DPoP key the client used at PAR; the token request must use the same. */
    dpopJkt: text('dpop_jkt').notNull(),
    /** The browser (hash of its device cookie) the request was opened in, once it is. */
    deviceId: text('device_id'),
    /** The account signed in for it, once one is. */
    did: text('did'),
    codeHash: text('code_hash').unique(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('oauth_request_expires_idx').on(t.expiresAt)],
)

/** An OAuth session: one chain of single-use refresh tokens, bound to a DPoP key. */
export const oauthSession = sqliteTable(
  'oauth_session',
  {
    /** The token id access tokens carry; deleting the row revokes them at once. */
    id: text('id').primaryKey(),
    did: text('did').notNull(),
    clientId: text('client_id').notNull(),
    clientName: text('client_name'),
    clientAuth: text('client_auth').notNull(),
    /** Space-separated granted scopes. */
    scope: text('scope').notNull(),
    dpopJkt: text('dpop_jkt').notNull(),
    refreshHash: text('refresh_hash').notNull().unique(),
    /** The token the current one replaced: presented again, it ends the session (replay). */
    previousRefreshHash: text('previous_refresh_hash'),
    /** The code that opened the session: redeemed twice, it ends the session. */
    codeHash: text('code_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** When the current refresh token (and so the session) expires. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    index('oauth_session_previous_refresh_idx').on(t.previousRefreshHash),
    index('oauth_session_code_idx').on(t.codeHash),
    index('oauth_session_did_idx').on(t.did),
    index('oauth_session_expires_idx').on(t.expiresAt),
  ],
)

/** Accounts signed in on a browser (its device cookie, hashed): the remembered accounts. */
export const oauthDeviceAccount = sqliteTable(
  'oauth_device_account',
  {
    deviceHash: text('device_hash').notNull(),
    did: text('did').notNull(),
    authenticatedAt: integer('authenticated_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.deviceHash, t.did] }),
    index('oauth_device_account_expires_idx').on(t.expiresAt),
  ],
)

/**
 * Signing keys reserved with com.atproto.server.reserveSigningKey, by `id`: the DID the key
 * is for, or (reserved without one) the key's own did:key. The private key is encrypted with
 * PDS_KEY_ENCRYPTION_SECRET and bound to `id`. createAccount takes the DID's key when that DID
 * moves here; unclaimed reservations expire (src/accounts/reserved-keys.ts).
 */
export const reservedSigningKey = sqliteTable(
  'reserved_signing_key',
  {
    id: text('id').primaryKey(),
    signingKeyDid: text('signing_key_did').notNull(),
    signingKeyEncrypted: text('signing_key_encrypted').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('reserved_signing_key_created_idx').on(t.createdAt)],
)
