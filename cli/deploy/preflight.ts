/**
 * Before anything is created: a Node and a wrangler that can deploy, Cloudflare credentials,
 * the account to deploy to, and the zones the hostname and handle domains live in.
 */
import type { Asker } from '../shared/prompt.ts'
import { runWrangler, wranglerVersion } from '../shared/wrangler.ts'
import { type CloudflareApi, CloudflareApiError, createCloudflareApi } from './cloudflare-api.ts'

export class PreflightError extends Error {
  override name = 'PreflightError'
}

const MIN_NODE_MAJOR = 22
const MIN_WRANGLER_MAJOR = 4

export function checkVersions(): { node: string; wrangler: string } {
  const node = process.versions.node
  if (Number(node.split('.')[0]) < MIN_NODE_MAJOR) {
    throw new PreflightError(
      `Node ${node} is too old: run through npm (npm run deploy), which uses the project's Node 24`,
    )
  }
  const wrangler = wranglerVersion()
  if (Number(wrangler.split('.')[0]) < MIN_WRANGLER_MAJOR) {
    throw new PreflightError(`wrangler ${wrangler} is too old: run npm install`)
  }
  return { node, wrangler }
}

/** An API token from the environment, else the one `wrangler login` stored. */
export async function credentials(): Promise<{ token: string; source: string }> {
  const fromEnv = process.env.CLOUDFLARE_API_TOKEN?.trim()
  if (fromEnv) return { token: fromEnv, source: 'CLOUDFLARE_API_TOKEN' }
  try {
    const { stdout } = await runWrangler(['auth', 'token', '--json'])
    const parsed = JSON.parse(stdout) as { token?: string }
    if (parsed.token) return { token: parsed.token, source: 'wrangler login' }
  } catch {
    // Falls through to the explanation below.
  }
  throw new PreflightError(
    'No Cloudflare credentials: set CLOUDFLARE_API_TOKEN (Account: Workers Scripts, D1, Workers R2 ' +
      'Storage: Edit, Account Settings: Read; Zone: Workers Routes, DNS: Edit, Zone: Read) or run ' +
      '`npx wrangler login`',
  )
}

export interface Account {
  id: string
  name: string
}

export async function chooseAccount(
  api: CloudflareApi,
  asker: Asker,
  wanted: string | undefined,
): Promise<Account> {
  let accounts: Account[]
  try {
    accounts = await api.get<Account[]>('/accounts', { per_page: '50' })
  } catch (err) {
    if (err instanceof CloudflareApiError && (err.status === 401 || err.status === 403)) {
      throw new PreflightError(`Cloudflare refused the credentials: ${err.message}`)
    }
    throw err
  }
  if (wanted) {
    const account = accounts.find((a) => a.id === wanted)
    if (!account) throw new PreflightError(`account ${wanted} is not one these credentials reach`)
    return account
  }
  if (accounts.length === 0) throw new PreflightError('these credentials reach no account')
  if (accounts.length === 1) return accounts[0]!
  if (!asker.interactive) {
    const list = accounts.map((a) => `${a.id} (${a.name})`).join(', ')
    throw new PreflightError(
      `several accounts (${list}): pass --account-id or CLOUDFLARE_ACCOUNT_ID`,
    )
  }
  for (const [i, a] of accounts.entries()) console.log(`  ${i + 1}. ${a.name} (${a.id})`)
  const answer = await asker.ask({
    message: 'Which account?',
    flag: '--account-id',
    env: 'CLOUDFLARE_ACCOUNT_ID',
    validate: (v) => (accounts[Number(v) - 1] ? null : `a number from 1 to ${accounts.length}`),
  })
  return accounts[Number(answer) - 1]!
}

/** The zone (on this account) a hostname belongs to: its longest suffix that is a zone. */
export async function findZone(
  api: CloudflareApi,
  accountId: string,
  hostname: string,
): Promise<string> {
  const labels = hostname.split('.')
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.')
    const zones = await api.get<{ name: string }[]>('/zones', { name, 'account.id': accountId })
    if (zones.length > 0) return name
  }
  throw new PreflightError(
    `no zone on this Cloudflare account holds ${hostname}: add the domain to Cloudflare first ` +
      '(dash.cloudflare.com → Add a domain) and point its nameservers to Cloudflare',
  )
}

export { createCloudflareApi }
