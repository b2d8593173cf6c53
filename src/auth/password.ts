/**
 * Account password hashing, stored as `scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (standard
 * base64, unpadded). The string names its own parameters, so they can be raised later:
 * `verifyPassword` reads whatever a hash says, and `needsRehash` tells the login handler to
 * store a fresh hash once the password has been checked.
 *
 * Why scrypt N=2^14, r=8, p=1 (16 MiB), the reference PDS's strength (node:crypto's defaults):
 * - WebCrypto has no scrypt, so it runs in JS (@noble/hashes), about twice the time of the
 *   reference's native scrypt for the same work; `npm run bench:scrypt` measures both (figures
 *   in README.md "Password hashing"). PBKDF2 would be native, but Cloudflare's runtime refuses
 *   it above 100,000 iterations (cloudflare/workerd#1346), a sixth of OWASP's advice, and it is
 *   cheap on GPUs: not an option.
 * - Until now p=5 (OWASP's N=2^14/r=8/p=5 line): 5x the work, so createAccount and
 *   createSession cost ~5x the CPU of p=1, 4.3x and 1.6x slower than the reference end to
 *   end, and more CPU per login than the Workers Free plan allows per request. Each p costs
 *   as much as the last (the lanes run one after another in one isolate), so p buys no
 *   memory hardness, only time; N=2^15 would double both but also the 32 MiB a hash holds in a
 *   128 MiB isolate.
 * - So the reference's strength, and no less: logins here cost what they cost there, and are
 *   rate-limited (src/rate-limit.ts) against guessing. Older hashes (p=5) still verify, and a
 *   successful login stores a fresh one (`needsRehash`, src/accounts/password-upgrade.ts).
 */
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { randomBytes } from '../crypto/random.ts'
import { base64Decode, base64Encode } from '../data/base64.ts'
import { timingSafeEqual } from './constant-time.ts'
import { PasswordHashError } from './errors.ts'

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number
  r: number
  p: number
}

export const PASSWORD_SCHEME = 'scrypt'
export const PASSWORD_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 14, r: 8, p: 1 })

const SALT_BYTES = 16
const HASH_BYTES = 32

// Bounds for hashes read back from storage, so a damaged or planted row cannot make one login
// allocate or compute without limit. They leave room to raise the defaults 8x or so.
const MIN_LOG_N = 10
const MAX_LOG_N = 17
const MAX_R = 32
const MAX_P = 64
const MAX_WORK = 2 ** 23 // N * r * p
const MAX_MEMORY = 64 * 1024 * 1024 // 128 * r * N bytes

interface ParsedHash {
  params: ScryptParams
  salt: Uint8Array
  hash: Uint8Array
}

const encoder = new TextEncoder()

export async function hashPassword(
  password: string,
  params: Readonly<ScryptParams> = PASSWORD_PARAMS,
): Promise<string> {
  checkParams(params)
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, params, HASH_BYTES)
  return formatHash({ params, salt, hash })
}

/**
 * True when `password` matches. A wrong password is `false`; a `stored` value this module
 * cannot read throws PasswordHashError, since that is a fault of the server, not the user.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored)
  const hash = await derive(password, parsed.salt, parsed.params, parsed.hash.length)
  return timingSafeEqual(hash, parsed.hash)
}

/** True when `stored` was made with other parameters than `params` (or cannot be read). */
export function needsRehash(
  stored: string,
  params: Readonly<ScryptParams> = PASSWORD_PARAMS,
): boolean {
  let parsed: ParsedHash
  try {
    parsed = parseHash(stored)
  } catch {
    return true
  }
  const { N, r, p } = parsed.params
  return (
    N !== params.N ||
    r !== params.r ||
    p !== params.p ||
    parsed.salt.length !== SALT_BYTES ||
    parsed.hash.length !== HASH_BYTES
  )
}

function derive(
  password: string,
  salt: Uint8Array,
  params: ScryptParams,
  dkLen: number,
): Promise<Uint8Array> {
  const { N, r, p } = params
  return scryptAsync(encoder.encode(password), salt, {
    N,
    r,
    p,
    dkLen,
    maxmem: MAX_MEMORY + 2 ** 20,
  })
}

function formatHash({ params, salt, hash }: ParsedHash): string {
  const settings = `ln=${Math.log2(params.N)},r=${params.r},p=${params.p}`
  return `${PASSWORD_SCHEME}$${settings}$${base64Encode(salt)}$${base64Encode(hash)}`
}

function parseHash(stored: string): ParsedHash {
  const parts = typeof stored === 'string' ? stored.split('$') : []
  if (parts.length !== 4) throw new PasswordHashError('password hash is not in a known format')
  const [scheme, settings, saltText, hashText] = parts as [string, string, string, string]
  if (scheme !== PASSWORD_SCHEME) {
    throw new PasswordHashError(`unsupported password hash scheme ${JSON.stringify(scheme)}`)
  }
  const match = /^ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})$/.exec(settings)
  if (!match) throw new PasswordHashError('password hash parameters are malformed')
  const params = { N: 2 ** Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  checkParams(params)
  const salt = decodeBase64(saltText, 'salt')
  const hash = decodeBase64(hashText, 'hash')
  if (salt.length < 8 || salt.length > 64) throw new PasswordHashError('bad password salt length')
  if (hash.length < 16 || hash.length > 64) throw new PasswordHashError('bad password hash length')
  return { params, salt, hash }
}

function checkParams({ N, r, p }: ScryptParams): void {
  const logN = Math.log2(N)
  const ok =
    Number.isInteger(logN) &&
    logN >= MIN_LOG_N &&
    logN <= MAX_LOG_N &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P &&
    N * r * p <= MAX_WORK &&
    128 * r * N <= MAX_MEMORY
  if (!ok) throw new PasswordHashError(`scrypt parameters out of range: N=${N}, r=${r}, p=${p}`)
}

function decodeBase64(text: string, label: string): Uint8Array {
  try {
    const bytes = base64Decode(text)
    if (base64Encode(bytes) === text) return bytes
  } catch {
    // reported below
  }
  throw new PasswordHashError(`password ${label} is not canonical base64`)
}

const dummyHashes = new Map<string, Promise<string>>()

/**
 * A stand-in hash at the given cost, so that an unknown identifier costs the same as a wrong
 * password and the response time does not tell which identifiers exist.
 */
export function dummyPasswordHash(params: ScryptParams): Promise<string> {
  const key = JSON.stringify(params)
  let hash = dummyHashes.get(key)
  if (!hash) {
    hash = hashPassword('not the password of anyone', params)
    dummyHashes.set(key, hash)
  }
  return hash
}
