/** The command line of `npm run migrate`. */
import { parseArgs } from 'node:util'

export interface MigrateArgs {
  /** A handle, a DID, or the old PDS's URL (then `account` names the account). */
  from: string
  account?: string
  to: string
  newHandle?: string
  inviteCode?: string
  plcToken?: string
  plcUrl: string
  stateDir: string
  dryRun: boolean
  yes: boolean
}

export const USAGE = `Move an account from one PDS to another.

  npm run migrate -- --from <handle, DID or PDS URL> --to <PDS URL> [options]

  --from URL|handle|DID  the account, or its current PDS (then --account too)
  --account handle|DID   the account, when --from is a PDS URL
  --to URL               the PDS to move to
  --new-handle H         the handle on the new PDS (default: keep the current one)
  --invite-code C        invite code, if the new PDS requires one
  --plc-token T          the PLC confirmation token, if you already have one
  --plc-url URL          PLC directory (default https://plc.directory)
  --state-dir D          where progress is kept (default ./migrate-state)
  --dry-run              report sizes and the plan, change nothing
  --yes                  do not ask before starting

Environment: MIGRATE_OLD_PASSWORD, MIGRATE_NEW_PASSWORD (default: the old one), MIGRATE_PLC_URL.
Re-run the same command to continue an interrupted migration.`

export class UsageError extends Error {
  override name = 'UsageError'
}

export function parseMigrateArgs(argv: string[], env: NodeJS.ProcessEnv): MigrateArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        account: { type: 'string' },
        to: { type: 'string' },
        'new-handle': { type: 'string' },
        'invite-code': { type: 'string' },
        'plc-token': { type: 'string' },
        'plc-url': { type: 'string' },
        'state-dir': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) throw new UsageError('')
  const from = values.from as string | undefined
  const to = values.to as string | undefined
  if (!from) throw new UsageError('--from is required')
  if (!to) throw new UsageError('--to is required')
  return {
    from,
    account: values.account as string | undefined,
    to: checkUrl('--to', to),
    newHandle: values['new-handle'] as string | undefined,
    inviteCode: values['invite-code'] as string | undefined,
    plcToken: values['plc-token'] as string | undefined,
    plcUrl: checkUrl(
      '--plc-url',
      (values['plc-url'] as string | undefined) ?? env.MIGRATE_PLC_URL ?? 'https://plc.directory',
    ),
    stateDir: (values['state-dir'] as string | undefined) ?? 'migrate-state',
    dryRun: values['dry-run'] === true,
    yes: values.yes === true,
  }
}

/** An origin without a trailing slash, as PDS endpoints are written in DID documents. */
export function checkUrl(flag: string, value: string): string {
  try {
    const url = new URL(value)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)')
    return url.origin
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got ${JSON.stringify(value)}`)
  }
}
