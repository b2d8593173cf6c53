/**
 * Every operator setting, read from the Worker's `env` in one place.
 *
 * Outside local development the hostname and the secrets are required: a deployment missing
 * one refuses to serve (ConfigError) rather than run as a development server under the real
 * PLC directory. `PDS_DEV_MODE=true` is local development: `localhost` for this server's own
 * name, plain http and loopback identity resolution; `npm run dev` sets it and points the
 * services at local ones (scripts/dev.mjs).
 */
import { InternalServerError } from './xrpc/errors.ts'

export interface ServiceConfig {
  url: string
  did: string
}

export interface ProxyConfig {
  /** Deadline for a forwarded call, response body included. */
  timeoutMs: number
  /** Largest request body forwarded upstream, bytes. */
  maxRequestBytes: number
  /** Largest upstream response passed back, bytes (after decompression). */
  maxResponseBytes: number
}

export interface Config {
  /** The public hostname of this PDS (`pds.example.com`). */
  hostname: string
  /** The public origin, e.g. `https://pds.example.com` (http only for localhost). */
  publicUrl: string
  /** This PDS's own DID (`did:web:<hostname>`), the audience of its tokens. */
  serviceDid: string
  /** Handle suffixes users may register under, each starting with a dot (`.pds.example.com`). */
  handleDomains: string[]
  inviteRequired: boolean
  plcUrl: string
  appView: ServiceConfig | null
  chat: ServiceConfig | null
  moderation: ServiceConfig | null
  /**
   * The moderation service whose service-auth JWTs may call `com.atproto.admin.*` (the DID,
   * no fragment); null: only the admin password may.
   */
  modServiceDid: string | null
  /** Service proxying: how long a forwarded call may take and how much it may carry. */
  proxy: ProxyConfig
  /** Relay hostnames that get `com.atproto.sync.requestCrawl`. */
  crawlers: string[]
  contactEmail: string | null
  /** How mail leaves (`PDS_MAILER`); null: no mailer, nothing can be mailed. */
  mail: MailConfig | null
  privacyPolicyUrl: string | null
  termsOfServiceUrl: string | null
  /** Largest accepted blob upload in bytes. */
  blobUploadLimit: number
  /** Largest repo CAR importRepo accepts, in bytes. */
  maxImportBytes: number
  /**
   * How long an uploaded blob that no record references is kept, in seconds. The blob spec
   * asks for at least an hour; lower values are for tests.
   */
  blobTempGraceSeconds: number
  /** Per-account limit on stored blob bytes (temporary ones included); null: none. */
  blobQuotaBytes: number | null
  /** How long firehose events stay replayable. */
  eventRetentionHours: number
  /**
   * How fast (MiB/s) a firehose consumer is assumed to read: workerd cannot tell, so replays are
   * paced to it and a live consumer far behind it is cut off (src/sequencer/firehose.ts).
   */
  firehoseConsumerMibPerSecond: number
  /** Firehose subscribers accepted at once, in all and per client address (IPv6: per /64). */
  firehoseMaxSubscribers: number
  firehoseMaxSubscribersPerIp: number
  rateLimitsEnabled: boolean
  /** The per-address and per-account abuse limits (`PDS_RATE_LIMITS` overrides any of them). */
  rateLimits: Record<RateLimitName, RateLimitValue>
  /** Per-account limits on writes, blob uploads and handle changes (src/rate-limit.ts). */
  accountLimits: AccountLimits
  /** Check every JSON response against its Lexicon (on in tests; costs CPU). */
  validateResponses: boolean
  /** Allows plain-http and loopback identity resolution; for local development only. */
  devMode: boolean
  /**
   * scrypt cost for new password hashes (stored hashes carry their own parameters, and one
   * made with others is replaced at the next login). The default is the reference PDS's
   * N=2^14, r=8, p=1 (src/auth/password.ts says why); tests lower it.
   */
  passwordHash: { N: number; r: number; p: number }
  secrets: {
    jwtSecret: string | null
    adminPassword: string | null
    /** Hex secp256k1 private key this PDS uses as its PLC rotation key. */
    plcRotationKey: string | null
    /** Secret that encrypts account signing keys at rest. */
    keyEncryptionSecret: string | null
    /** Resend API key, for `PDS_MAILER=resend`. */
    resendApiKey: string | null
  }
}

/**
 * `cloudflare`: the Email Service `send_email` binding named `EMAIL`; `resend`: Resend's HTTP
 * API; `dev`: the development mailbox (local development only).
 */
export type MailerKind = 'cloudflare' | 'resend' | 'dev'
export const MAILER_KINDS: readonly MailerKind[] = ['cloudflare', 'resend', 'dev']

export interface MailConfig {
  mailer: MailerKind
  /** The sender, e.g. `PDS <noreply@pds.example.com>`. */
  from: string
  /** Resend's API origin; tests point it at a loopback stand-in. */
  resendApiUrl: string
}

export interface AccountLimits {
  /** Repo write points (create 3, update 2, delete 1, as the reference PDS) per hour. */
  repoWritePointsPerHour: number
  repoWritePointsPerDay: number
  updateHandlePer5Minutes: number
  updateHandlePerDay: number
  uploadBlobPerHour: number
}

export interface RateLimitValue {
  /** Names the limit in counters and in `PDS_RATE_LIMITS`, e.g. `createSession-ip`. */
  name: string
  windowSeconds: number
  max: number
}

/** The abuse limits' defaults; `PDS_RATE_LIMITS` sets any of them by name. */
export const RATE_LIMIT_DEFAULTS = {
  createSessionPerIp: { name: 'createSession-ip', windowSeconds: 300, max: 100 },
  /**
   * Wrong passwords for one account: tightly from one address (an IPv6 /64), loosely from
   * all, so that someone guessing from a few addresses cannot lock the owner out (ten
   * addresses at the tight rate are needed to reach the loose one).
   */
  createSessionFailuresPerAccountAddress: {
    name: 'createSession-fail-acct-ip',
    windowSeconds: 300,
    max: 10,
  },
  createSessionFailuresPerAccount: {
    name: 'createSession-fail-acct',
    windowSeconds: 300,
    max: 100,
  },
  /** Wrong admin passwords (HTTP Basic, and the admin page's sign-in) per address. */
  adminAuthFailuresPerIp: { name: 'admin-auth-fail-ip', windowSeconds: 300, max: 10 },
  createAccountPerIp: { name: 'createAccount-ip', windowSeconds: 300, max: 50 },
  /** Password guesses through deleteAccount, like logins. */
  deleteAccountPerDid: { name: 'deleteAccount-did', windowSeconds: 300, max: 30 },
  requestAccountDeletePerDid: { name: 'requestAccountDelete-did', windowSeconds: 3600, max: 5 },
  /** Mailed codes, over every method that mails one: per account and per client address. */
  mailPerAccount: { name: 'mail-acct', windowSeconds: 3600, max: 15 },
  mailPerIp: { name: 'mail-ip', windowSeconds: 3600, max: 100 },
  /** Password-reset mails per address asked about, whether an account has it or not. */
  mailPerAddress: { name: 'mail-addr', windowSeconds: 3600, max: 5 },
  /** Mailed codes typed back: per account, and per client address where none is named. */
  tokenChecksPerAccount: { name: 'token-check-acct', windowSeconds: 300, max: 30 },
  tokenChecksPerIp: { name: 'token-check-ip', windowSeconds: 300, max: 50 },
  /** Whole-repo imports (up to 100 MiB each) per account: a migration needs a few. */
  importRepoPerDid: { name: 'importRepo-did', windowSeconds: 3600, max: 20 },
  /** Each call may store a key: bounded per address. */
  reserveSigningKeyPerIp: { name: 'reserveSigningKey-ip', windowSeconds: 300, max: 50 },
  requestPlcOperationSignaturePerDid: {
    name: 'requestPlcOperationSignature-did',
    windowSeconds: 3600,
    max: 5,
  },
  /** Token guesses and PLC directory calls, per account. */
  signPlcOperationPerDid: { name: 'signPlcOperation-did', windowSeconds: 300, max: 30 },
  submitPlcOperationPerDid: { name: 'submitPlcOperation-did', windowSeconds: 300, max: 30 },
} as const satisfies Record<string, RateLimitValue>

export type RateLimitName = keyof typeof RATE_LIMIT_DEFAULTS

/** No counter window may be longer than a day (stale counters are dropped after one). */
export const MAX_RATE_LIMIT_WINDOW_SECONDS = 86_400

/** The environment variables this module reads; all optional. */
export const CONFIG_VARS = [
  'PDS_HOSTNAME',
  'PDS_PUBLIC_URL',
  'PDS_SERVICE_DID',
  'PDS_HANDLE_DOMAINS',
  'PDS_INVITE_REQUIRED',
  'PDS_PLC_URL',
  'PDS_APPVIEW_URL',
  'PDS_APPVIEW_DID',
  'PDS_CHAT_URL',
  'PDS_CHAT_DID',
  'PDS_MODERATION_URL',
  'PDS_MODERATION_DID',
  'PDS_MOD_SERVICE_DID',
  'PDS_PROXY_TIMEOUT_MS',
  'PDS_PROXY_MAX_REQUEST_BYTES',
  'PDS_PROXY_MAX_RESPONSE_BYTES',
  'PDS_CRAWLERS',
  'PDS_CONTACT_EMAIL',
  'PDS_MAILER',
  'PDS_EMAIL_FROM',
  'PDS_RESEND_API_URL',
  'PDS_RESEND_API_KEY',
  'PDS_PRIVACY_POLICY_URL',
  'PDS_TERMS_OF_SERVICE_URL',
  'PDS_BLOB_UPLOAD_LIMIT',
  'PDS_MAX_IMPORT_BYTES',
  'PDS_BLOB_TEMP_GRACE_SECONDS',
  'PDS_BLOB_QUOTA_BYTES',
  'PDS_EVENT_RETENTION_HOURS',
  'PDS_FIREHOSE_CONSUMER_MIBPS',
  'PDS_FIREHOSE_MAX_SUBSCRIBERS',
  'PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP',
  'PDS_RATE_LIMITS_ENABLED',
  'PDS_RATE_LIMITS',
  'PDS_RATE_LIMIT_WRITE_POINTS_HOUR',
  'PDS_RATE_LIMIT_WRITE_POINTS_DAY',
  'PDS_RATE_LIMIT_UPDATE_HANDLE_5MIN',
  'PDS_RATE_LIMIT_UPDATE_HANDLE_DAY',
  'PDS_RATE_LIMIT_UPLOAD_BLOB_HOUR',
  'PDS_VALIDATE_RESPONSES',
  'PDS_DEV_MODE',
  'PDS_PASSWORD_SCRYPT_LOG_N',
  'PDS_PASSWORD_SCRYPT_P',
  'PDS_JWT_SECRET',
  'PDS_ADMIN_PASSWORD',
  'PDS_PLC_ROTATION_KEY',
  'PDS_KEY_ENCRYPTION_SECRET',
] as const

export type ConfigVar = (typeof CONFIG_VARS)[number]
export type ConfigEnv = Partial<Record<ConfigVar, string>>

export class ConfigError extends Error {
  override name = 'ConfigError'
  /** Required settings that are not set. */
  readonly missing: string[]

  constructor(message: string, missing: string[] = []) {
    super(message)
    this.missing = missing
  }
}

/** What a deployment cannot run without (local development can). */
const REQUIRED_OUTSIDE_DEV_MODE = [
  'PDS_HOSTNAME',
  'PDS_JWT_SECRET',
  'PDS_ADMIN_PASSWORD',
  'PDS_PLC_ROTATION_KEY',
  'PDS_KEY_ENCRYPTION_SECRET',
] as const satisfies readonly ConfigVar[]

const DEV_MODE_HINT = 'PDS_DEV_MODE=true is for local development only'

const cache = new WeakMap<object, Config>()

/** Reads the config once per `env` object (an isolate keeps the same one across requests). */
export function getConfig(env: object): Config {
  let config = cache.get(env)
  if (!config) {
    config = readConfig(env as ConfigEnv)
    cache.set(env, config)
  }
  return config
}

const reported = new WeakSet<object>()

/**
 * The ConfigError that keeps this `env` from serving, or null; logged the first time it is
 * seen (an isolate keeps one `env`), so a misconfigured deployment says why once, not per
 * request.
 */
export function configProblem(env: object): ConfigError | null {
  try {
    getConfig(env)
    return null
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    if (!reported.has(env)) {
      reported.add(env)
      console.error(err.message)
    }
    return err
  }
}

export function readConfig(env: ConfigEnv): Config {
  const devMode = bool(env.PDS_DEV_MODE, false)
  if (!devMode) checkDeployment(env)
  const hostname = str(env.PDS_HOSTNAME) ?? 'localhost'
  const isLocal = isLocalHostname(hostname)
  const publicUrl = trimSlash(
    str(env.PDS_PUBLIC_URL) ?? (isLocal ? `http://${hostname}:2583` : `https://${hostname}`),
  )
  if (!devMode && !publicUrl.startsWith('https://')) {
    throw new ConfigError(`PDS_PUBLIC_URL must be https (${DEV_MODE_HINT}): ${publicUrl}`)
  }
  const handleDomains = list(env.PDS_HANDLE_DOMAINS) ?? [isLocal ? '.test' : `.${hostname}`]
  for (const domain of handleDomains) {
    if (!domain.startsWith('.')) {
      throw new ConfigError(`PDS_HANDLE_DOMAINS entries must start with a dot: ${domain}`)
    }
  }
  const moderation = service(env.PDS_MODERATION_URL, env.PDS_MODERATION_DID, {
    url: 'https://mod.bsky.app',
    did: 'did:plc:ar7c4by46qjdydhdevvrndac#atproto_labeler',
  })
  return {
    hostname,
    publicUrl,
    serviceDid: str(env.PDS_SERVICE_DID) ?? `did:web:${hostname}`,
    handleDomains: handleDomains.map((d) => d.toLowerCase()),
    inviteRequired: bool(env.PDS_INVITE_REQUIRED, false),
    plcUrl: trimSlash(str(env.PDS_PLC_URL) ?? 'https://plc.directory'),
    appView: service(env.PDS_APPVIEW_URL, env.PDS_APPVIEW_DID, {
      url: 'https://api.bsky.app',
      did: 'did:web:api.bsky.app#bsky_appview',
    }),
    chat: service(env.PDS_CHAT_URL, env.PDS_CHAT_DID, {
      url: 'https://api.bsky.chat',
      did: 'did:web:api.bsky.chat#bsky_chat',
    }),
    moderation,
    modServiceDid: modServiceDid(env.PDS_MOD_SERVICE_DID, moderation),
    proxy: {
      timeoutMs: int(env.PDS_PROXY_TIMEOUT_MS, 30_000),
      maxRequestBytes: int(env.PDS_PROXY_MAX_REQUEST_BYTES, 10 * 1024 * 1024),
      maxResponseBytes: int(env.PDS_PROXY_MAX_RESPONSE_BYTES, 50 * 1024 * 1024),
    },
    crawlers: list(env.PDS_CRAWLERS) ?? ['bsky.network'],
    contactEmail: str(env.PDS_CONTACT_EMAIL),
    mail: mailConfig(env, devMode, hostname),
    privacyPolicyUrl: str(env.PDS_PRIVACY_POLICY_URL),
    termsOfServiceUrl: str(env.PDS_TERMS_OF_SERVICE_URL),
    blobUploadLimit: int(env.PDS_BLOB_UPLOAD_LIMIT, 100 * 1024 * 1024),
    maxImportBytes: int(env.PDS_MAX_IMPORT_BYTES, 100 * 1024 * 1024),
    blobTempGraceSeconds: int(env.PDS_BLOB_TEMP_GRACE_SECONDS, 3600),
    blobQuotaBytes: int(env.PDS_BLOB_QUOTA_BYTES, 0) || null,
    eventRetentionHours: int(env.PDS_EVENT_RETENTION_HOURS, 72),
    firehoseConsumerMibPerSecond: Math.max(1, int(env.PDS_FIREHOSE_CONSUMER_MIBPS, 16)),
    firehoseMaxSubscribers: int(env.PDS_FIREHOSE_MAX_SUBSCRIBERS, 1000),
    firehoseMaxSubscribersPerIp: int(env.PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP, 20),
    rateLimitsEnabled: bool(env.PDS_RATE_LIMITS_ENABLED, true),
    rateLimits: rateLimits(env.PDS_RATE_LIMITS),
    accountLimits: {
      repoWritePointsPerHour: int(env.PDS_RATE_LIMIT_WRITE_POINTS_HOUR, 5000),
      repoWritePointsPerDay: int(env.PDS_RATE_LIMIT_WRITE_POINTS_DAY, 35_000),
      updateHandlePer5Minutes: int(env.PDS_RATE_LIMIT_UPDATE_HANDLE_5MIN, 10),
      updateHandlePerDay: int(env.PDS_RATE_LIMIT_UPDATE_HANDLE_DAY, 50),
      uploadBlobPerHour: int(env.PDS_RATE_LIMIT_UPLOAD_BLOB_HOUR, 1000),
    },
    validateResponses: bool(env.PDS_VALIDATE_RESPONSES, false),
    devMode,
    passwordHash: {
      N: 2 ** int(env.PDS_PASSWORD_SCRYPT_LOG_N, 14),
      r: 8,
      p: int(env.PDS_PASSWORD_SCRYPT_P, 1),
    },
    secrets: {
      jwtSecret: str(env.PDS_JWT_SECRET),
      adminPassword: str(env.PDS_ADMIN_PASSWORD),
      plcRotationKey: str(env.PDS_PLC_ROTATION_KEY),
      keyEncryptionSecret: str(env.PDS_KEY_ENCRYPTION_SECRET),
      resendApiKey: str(env.PDS_RESEND_API_KEY),
    },
  }
}

/** `PDS_MAILER` and what the chosen mailer needs; a mailer that cannot work refuses to start. */
function mailConfig(env: ConfigEnv, devMode: boolean, hostname: string): MailConfig | null {
  const raw = str(env.PDS_MAILER)?.toLowerCase() ?? null
  if (raw === null || raw === 'none') return null
  const mailer = MAILER_KINDS.find((kind) => kind === raw)
  if (!mailer) {
    throw new ConfigError(`PDS_MAILER must be one of ${MAILER_KINDS.join(', ')}: got "${raw}"`)
  }
  if (mailer === 'dev' && !devMode) {
    throw new ConfigError(`PDS_MAILER=dev keeps mail on the server (${DEV_MODE_HINT})`)
  }
  const from = str(env.PDS_EMAIL_FROM) ?? (mailer === 'dev' ? `PDS <noreply@${hostname}>` : null)
  if (!from) throw new ConfigError(`PDS_MAILER=${mailer} needs PDS_EMAIL_FROM (the sender)`)
  const address = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from
  if (/[\r\n]/.test(from) || !/^[^\s@<>]+@[^\s@<>]+$/.test(address)) {
    throw new ConfigError(`PDS_EMAIL_FROM is not an address: ${from}`)
  }
  if (mailer === 'resend' && !str(env.PDS_RESEND_API_KEY)) {
    throw new ConfigError('PDS_MAILER=resend needs the secret PDS_RESEND_API_KEY')
  }
  const resendApiUrl = trimSlash(str(env.PDS_RESEND_API_URL) ?? 'https://api.resend.com')
  return { mailer, from, resendApiUrl }
}

/** The settings a deployment needs, and a hostname that is not a local one. */
function checkDeployment(env: ConfigEnv): void {
  const missing = REQUIRED_OUTSIDE_DEV_MODE.filter((name) => str(env[name]) === null)
  if (missing.length > 0) {
    throw new ConfigError(
      `This PDS is not configured: set ${missing.join(', ')} (or PDS_DEV_MODE=true for local development)`,
      missing,
    )
  }
  const hostname = str(env.PDS_HOSTNAME) ?? ''
  if (isLocalHostname(hostname)) {
    throw new ConfigError(`PDS_HOSTNAME is ${hostname}: set the public hostname (${DEV_MODE_HINT})`)
  }
}

function isLocalHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost')
}

/** A secret the current request cannot do without; a clear 500 names the missing variable. */
export function requireSecret(config: Config, name: keyof Config['secrets']): string {
  const value = config.secrets[name]
  if (value) return value
  const envName = {
    jwtSecret: 'PDS_JWT_SECRET',
    adminPassword: 'PDS_ADMIN_PASSWORD',
    plcRotationKey: 'PDS_PLC_ROTATION_KEY',
    keyEncryptionSecret: 'PDS_KEY_ENCRYPTION_SECRET',
    resendApiKey: 'PDS_RESEND_API_KEY',
  }[name]
  throw new InternalServerError(`This PDS is not configured: ${envName} is not set`)
}

function str(value: string | undefined): string | null {
  const trimmed = value?.trim()
  return trimmed ? trimmed : null
}

function list(value: string | undefined): string[] | null {
  const raw = str(value)
  if (raw === null) return null
  if (raw.toLowerCase() === 'none') return []
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

function bool(value: string | undefined, fallback: boolean): boolean {
  const raw = str(value)?.toLowerCase()
  if (raw === undefined || raw === null) return fallback
  if (['true', '1', 'yes', 'on'].includes(raw)) return true
  if (['false', '0', 'no', 'off'].includes(raw)) return false
  throw new ConfigError(`expected a boolean, got "${value}"`)
}

function int(value: string | undefined, fallback: number): number {
  const raw = str(value)
  if (raw === null) return fallback
  const parsed = Number(raw)
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    throw new ConfigError(`expected a non-negative integer, got "${value}"`)
  }
  return parsed
}

/** A service is disabled by setting its URL to the empty string or "none". */
function service(
  url: string | undefined,
  did: string | undefined,
  fallback: ServiceConfig,
): ServiceConfig | null {
  if (url !== undefined && (url.trim() === '' || url.trim() === 'none')) return null
  return { url: trimSlash(str(url) ?? fallback.url), did: str(did) ?? fallback.did }
}

/** `none` disables it; by default, the moderation service's DID without its fragment. */
function modServiceDid(value: string | undefined, moderation: ServiceConfig | null): string | null {
  const raw = str(value)
  if (raw?.toLowerCase() === 'none') return null
  const did = raw ?? moderation?.did.split('#')[0] ?? null
  if (did !== null && !/^did:[a-z]+:[a-zA-Z0-9._:%-]+$/.test(did)) {
    throw new ConfigError(`PDS_MOD_SERVICE_DID must be a DID (no fragment): ${did}`)
  }
  return did
}

/**
 * `PDS_RATE_LIMITS`: comma-separated `<name>=<max>` or `<name>=<max>/<window seconds>`, e.g.
 * `createSession-ip=200/300,admin-auth-fail-ip=5`; names as in RATE_LIMIT_DEFAULTS.
 */
function rateLimits(value: string | undefined): Record<RateLimitName, RateLimitValue> {
  const result: Record<string, RateLimitValue> = { ...RATE_LIMIT_DEFAULTS }
  const byName = new Map<string, string>(
    Object.entries(RATE_LIMIT_DEFAULTS).map(([key, limit]) => [limit.name, key]),
  )
  for (const entry of list(value) ?? []) {
    const match = /^([A-Za-z0-9-]+)=(\d+)(?:\/(\d+))?$/.exec(entry)
    const key = match ? byName.get(match[1]!) : undefined
    if (!match || !key) {
      throw new ConfigError(
        `PDS_RATE_LIMITS: expected <name>=<max>[/<seconds>] with a name among ${[...byName.keys()].join(', ')}; got "${entry}"`,
      )
    }
    const base = result[key]!
    const windowSeconds = match[3] === undefined ? base.windowSeconds : Number(match[3])
    if (windowSeconds < 1 || windowSeconds > MAX_RATE_LIMIT_WINDOW_SECONDS) {
      throw new ConfigError(`PDS_RATE_LIMITS: ${match[1]}'s window must be 1 to 86400 seconds`)
    }
    result[key] = { name: base.name, max: Number(match[2]), windowSeconds }
  }
  return result as Record<RateLimitName, RateLimitValue>
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}
