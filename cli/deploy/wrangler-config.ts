/**
 * The deployment's own wrangler configuration, `.deploy/<hostname>/wrangler.json` (git-ignored).
 * It is the committed wrangler.toml (the local default) with this deployment's account, names,
 * database id, routes and settings: Durable Object bindings and migrations, the Cron Trigger and
 * the compatibility date therefore always follow the checkout being deployed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Deployment, Mailer } from './settings.ts'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
/** Where deployments' configurations live; `PDS_DEPLOY_DIR` moves it (tests use a temporary one). */
export const deployRoot = process.env.PDS_DEPLOY_DIR ?? join(repoRoot, '.deploy')

type RawConfig = Record<string, unknown> & { vars?: Record<string, string> }

export interface Route {
  pattern: string
  custom_domain?: boolean
  zone_name?: string
}

export function configPath(hostname: string): string {
  return join(deployRoot, hostname, 'wrangler.json')
}

/** Hostnames deployed from this checkout before (a re-run offers them). */
export function knownDeployments(): string[] {
  if (!existsSync(deployRoot)) return []
  return readdirSync(deployRoot).filter((name) => existsSync(configPath(name)))
}

export function readDeploymentConfig(hostname: string): RawConfig | null {
  const path = configPath(hostname)
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RawConfig) : null
}

/** The committed wrangler.toml, read by wrangler itself (no TOML parser of our own). */
export async function readBaseConfig(): Promise<RawConfig> {
  const { experimental_readRawConfig } = await import('wrangler')
  const { rawConfig } = experimental_readRawConfig({ config: join(repoRoot, 'wrangler.toml') })
  return rawConfig as RawConfig
}

export interface RenderInput {
  deployment: Deployment
  databaseId: string
  /** The zone each handle domain's route lives in. */
  handleZones: Map<string, string>
  /** Settings from an earlier run (an operator's own additions survive a re-run). */
  previousVars?: Record<string, string>
}

export function renderConfig(base: RawConfig, input: RenderInput): RawConfig {
  const { deployment: d } = input
  const dir = join(deployRoot, d.hostname)
  const rel = (path: string) => relative(dir, join(repoRoot, path)).split('\\').join('/')
  const {
    dev: _dev,
    d1_databases: baseD1,
    r2_buckets: baseR2,
    vars: baseVars,
    ...rest
  } = base as RawConfig & {
    dev?: unknown
    d1_databases?: Record<string, unknown>[]
    r2_buckets?: Record<string, unknown>[]
  }
  const routes: Route[] = [
    { pattern: d.hostname, custom_domain: true },
    ...d.handleDomains.map((domain) => ({
      pattern: `*${domain}/*`,
      zone_name: input.handleZones.get(domain) ?? domain.slice(1),
    })),
  ]
  return {
    $schema: rel('node_modules/wrangler/config-schema.json'),
    ...rest,
    name: d.name,
    main: rel(String(base.main)),
    account_id: d.accountId,
    workers_dev: false,
    preview_urls: false,
    routes,
    d1_databases: (baseD1 ?? []).map((db) => ({
      ...db,
      database_name: d.name,
      database_id: input.databaseId,
      migrations_dir: rel(String(db.migrations_dir ?? 'migrations')),
    })),
    r2_buckets: (baseR2 ?? []).map((bucket) => ({ ...bucket, bucket_name: d.name })),
    ...(d.mailer === 'cloudflare' ? { send_email: [{ name: 'EMAIL' }] } : {}),
    vars: { ...baseVars, ...operatorVars(input.previousVars), ...deploymentVars(d) },
  }
}

/** Settings the deploy manages; any other var of an earlier run is the operator's own. */
const MANAGED_VARS = [
  'PDS_HOSTNAME',
  'PDS_HANDLE_DOMAINS',
  'PDS_CONTACT_EMAIL',
  'PDS_INVITE_REQUIRED',
  'PDS_MAILER',
  'PDS_EMAIL_FROM',
]

function operatorVars(vars: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !MANAGED_VARS.includes(k)))
}

function deploymentVars(d: Deployment): Record<string, string> {
  const mailer: Record<Mailer, Record<string, string>> = {
    cloudflare: { PDS_MAILER: 'cloudflare' },
    resend: { PDS_MAILER: 'resend' },
    none: {},
  }
  return {
    PDS_HOSTNAME: d.hostname,
    PDS_HANDLE_DOMAINS: d.handleDomains.join(','),
    PDS_CONTACT_EMAIL: d.contactEmail,
    PDS_INVITE_REQUIRED: String(d.inviteRequired),
    ...mailer[d.mailer],
    ...(d.mailer !== 'none' && d.emailFrom ? { PDS_EMAIL_FROM: d.emailFrom } : {}),
  }
}

export function writeDeploymentConfig(hostname: string, config: RawConfig): string {
  const path = configPath(hostname)
  mkdirSync(join(deployRoot, hostname), { recursive: true })
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`)
  return path
}
