/**
 * The Worker's secrets: generated once, set with `wrangler secret bulk` (values on its stdin,
 * never on disk or in argv), and never replaced afterwards. Replacing one would break the
 * deployment: a new key-encryption secret cannot decrypt the stored signing keys, and a new
 * PLC rotation key is not the one every account's DID lists.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import type { Asker } from '../shared/prompt.ts'
import { runWrangler } from '../shared/wrangler.ts'
import { type CloudflareApi, CloudflareApiError } from './cloudflare-api.ts'
import type { Runner } from './runner.ts'
import type { Deployment } from './settings.ts'

export const GENERATED_SECRETS = [
  'PDS_JWT_SECRET',
  'PDS_ADMIN_PASSWORD',
  'PDS_PLC_ROTATION_KEY',
  'PDS_KEY_ENCRYPTION_SECRET',
] as const

/** Cloudflare's "this Worker does not exist" (a first deployment). */
const SCRIPT_NOT_FOUND = 10007

/** Names of the secrets the Worker already has; none before its first deployment. */
export async function existingSecrets(
  api: CloudflareApi,
  accountId: string,
  script: string,
): Promise<Set<string>> {
  try {
    const secrets = await api.get<{ name: string }[]>(
      `/accounts/${accountId}/workers/scripts/${script}/secrets`,
    )
    return new Set(secrets.map((s) => s.name))
  } catch (err) {
    // Anything but "no such Worker" stops the deploy: guessing "none" would replace secrets.
    if (
      err instanceof CloudflareApiError &&
      err.status === 404 &&
      err.message.includes(`(${SCRIPT_NOT_FOUND})`)
    ) {
      return new Set()
    }
    throw err
  }
}

export interface NewSecrets {
  values: Record<string, string>
  /** did:key of the PLC rotation key, when one was generated. */
  rotationDidKey: string | null
}

export async function generateMissing(
  deployment: Deployment,
  existing: Set<string>,
  asker: Asker,
): Promise<NewSecrets> {
  const values: Record<string, string> = {}
  let rotationDidKey: string | null = null
  const missing = (name: string) => !existing.has(name)
  if (missing('PDS_JWT_SECRET')) values.PDS_JWT_SECRET = randomBytes(32).toString('hex')
  if (missing('PDS_ADMIN_PASSWORD')) {
    values.PDS_ADMIN_PASSWORD = randomBytes(18).toString('base64url')
  }
  if (missing('PDS_PLC_ROTATION_KEY')) {
    const key = await Secp256k1Keypair.create()
    values.PDS_PLC_ROTATION_KEY = key.exportPrivateKeyHex()
    rotationDidKey = key.did()
  }
  if (missing('PDS_KEY_ENCRYPTION_SECRET')) {
    values.PDS_KEY_ENCRYPTION_SECRET = randomBytes(32).toString('hex')
  }
  if (deployment.mailer === 'resend' && missing('PDS_RESEND_API_KEY')) {
    values.PDS_RESEND_API_KEY =
      process.env.PDS_RESEND_API_KEY?.trim() ||
      (await asker.ask({
        message: 'Resend API key (re_...)',
        flag: 'the environment variable',
        env: 'PDS_RESEND_API_KEY',
      }))
  }
  return { values, rotationDidKey }
}

export async function setSecrets(
  runner: Runner,
  configFile: string,
  secrets: NewSecrets,
): Promise<void> {
  const names = Object.keys(secrets.values)
  if (names.length === 0) {
    runner.info('✓ secrets are set, kept as they are')
    return
  }
  await runner.act(
    `set the secrets ${names.join(', ')} (wrangler secret bulk)`,
    () =>
      runWrangler(['secret', 'bulk', '--config', configFile], {
        input: JSON.stringify(secrets.values),
      }),
    undefined,
  )
}

/** Written only when asked for (`--backup-secrets <file>`), readable by the owner alone. */
export function writeBackup(path: string, hostname: string, secrets: NewSecrets): void {
  const lines = [
    `# Secrets of the PDS ${hostname}, generated ${new Date().toISOString()}. Keep offline.`,
    ...Object.entries(secrets.values).map(([k, v]) => `${k}=${v}`),
  ]
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' })
}

/** Shown once: nothing else keeps these (Cloudflare does not reveal a secret's value). */
export function showOnce(secrets: NewSecrets): void {
  const { PDS_ADMIN_PASSWORD: admin, PDS_PLC_ROTATION_KEY: rotation } = secrets.values
  if (!admin && !rotation) return
  console.log('\n================ shown once: copy these now ================')
  if (admin) console.log(`Admin password (user "admin"): ${admin}`)
  if (rotation) {
    console.log(`PLC rotation key (hex secp256k1): ${rotation}`)
    console.log(`  its public key: ${secrets.rotationDidKey}`)
    console.log(
      '  WARNING: keep a copy somewhere safe and offline. This key controls the DID of every\n' +
        '  account on this PDS; without it no DID can be updated or moved, and whoever holds it\n' +
        '  can take them all.',
    )
  }
  console.log('============================================================\n')
}
