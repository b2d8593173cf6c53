/**
 * Which PDS the CLI talks to, and with which admin password. In order: flags (`--url`,
 * `--password`), the environment (`PDS_URL`, `PDS_ADMIN_PASSWORD`), a config file (`--config`
 * or `PDS_CLI_CONFIG`: JSON `{"url", "adminPassword"}`), a deployment of this checkout
 * (`--deployment <hostname>`), else the local development server, whose password is in
 * `.dev.vars`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readDevVars } from '../shared/dev-vars.ts'

export interface Target {
  url: string
  adminPassword: string | null
  /** Where the settings came from, for messages. */
  source: string
  /** The PDS's own settings when this checkout knows them (local dev, a deployment). */
  settings: Record<string, string> | null
}

export interface TargetFlags {
  url?: string
  password?: string
  config?: string
  deployment?: string
}

export class TargetError extends Error {
  override name = 'TargetError'
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const LOCAL_DEV_DEFAULTS = { PDS_CRAWLERS: 'none', PDS_DEV_MODE: 'true' }

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): Target {
  const file = readConfigFile(flags.config ?? env.PDS_CLI_CONFIG)
  const password = flags.password || env.PDS_ADMIN_PASSWORD || file?.adminPassword || null
  const url = flags.url || env.PDS_URL || file?.url
  if (url) {
    const local = isLocal(url)
    const devVars = local ? readDevVars() : {}
    return {
      url: trimSlash(url),
      adminPassword: password || devVars.PDS_ADMIN_PASSWORD || null,
      source: flags.url
        ? '--url'
        : env.PDS_URL
          ? 'PDS_URL'
          : `config file ${flags.config ?? env.PDS_CLI_CONFIG}`,
      settings: local ? { ...LOCAL_DEV_DEFAULTS, ...devVars } : null,
    }
  }
  if (flags.deployment) {
    const path = join(
      env.PDS_DEPLOY_DIR ?? join(repoRoot, '.deploy'),
      flags.deployment,
      'wrangler.json',
    )
    if (!existsSync(path))
      throw new TargetError(`no deployment ${flags.deployment} in this checkout (${path})`)
    const { vars } = JSON.parse(readFileSync(path, 'utf8')) as { vars?: Record<string, string> }
    return {
      url: `https://${flags.deployment}`,
      adminPassword: password,
      source: `deployment ${flags.deployment}`,
      settings: vars ?? {},
    }
  }
  const devVars = readDevVars()
  return {
    url: `http://localhost:${env.PDS_PORT ?? 2583}`,
    adminPassword: password || devVars.PDS_ADMIN_PASSWORD || null,
    source: 'local development (npm run dev, .dev.vars)',
    settings: { ...LOCAL_DEV_DEFAULTS, ...devVars },
  }
}

function readConfigFile(path: string | undefined): { url?: string; adminPassword?: string } | null {
  if (!path) return null
  if (!existsSync(path)) throw new TargetError(`config file not found: ${path}`)
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { url?: string; adminPassword?: string }
  } catch (err) {
    throw new TargetError(`config file ${path} is not JSON: ${(err as Error).message}`)
  }
}

function isLocal(url: string): boolean {
  const host = new URL(url).hostname
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]'
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}
