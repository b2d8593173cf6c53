/**
 * `npm run pds -- <command>`: the operator CLI, against the local development server (reading
 * `.dev.vars`) or a deployed PDS (`--url`, or PDS_URL, with PDS_ADMIN_PASSWORD). `--help`.
 */
import { parseArgs } from 'node:util'
import { CliError, createClient } from './client.ts'
import { accountCommands } from './commands/account.ts'
import type { Command } from './commands/context.ts'
import { inviteCommands } from './commands/invite.ts'
import { requestCrawl } from './commands/request-crawl.ts'
import { status } from './commands/status.ts'
import { createOutput } from './output.ts'
import { resolveTarget, TargetError } from './target.ts'

const HELP = `npm run pds -- <command> [options]

  status                                   health, version, accounts, mailer, relays
  account list
  account create --handle <h> --email <e> [--password <p>] [--invite-code <c>]
  account info <did|handle>
  account delete <did|handle> --yes
  account takedown <did|handle> [--ref <note>]
  account untakedown <did|handle>
  account reset-password <did|handle> [--password <p>]   (generated and shown once by default)
  account update-handle <did|handle> <new-handle>
  account update-email <did|handle> <new-email>
  invite create [--count <n>] [--uses <n>] [--for <did>]
  invite list
  invite disable <code...> [--account <did>]
  request-crawl [relay...]                 relays: hostnames or origins (default: the PDS's PDS_CRAWLERS)

Which PDS (first that applies):
  --url <origin> / PDS_URL, with --password / PDS_ADMIN_PASSWORD (admin user "admin")
  --config <file> / PDS_CLI_CONFIG         JSON {"url": "...", "adminPassword": "..."}
  --deployment <hostname>                  a deployment made by npm run deploy from this checkout
  otherwise the local npm run dev server (http://localhost:2583, password from .dev.vars)

  --json    machine-readable output`

const COMMANDS: Record<string, Command | Record<string, Command>> = {
  status,
  account: accountCommands,
  invite: inviteCommands,
  'request-crawl': requestCrawl,
}

async function main(): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      password: { type: 'string' },
      config: { type: 'string' },
      deployment: { type: 'string' },
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      handle: { type: 'string' },
      email: { type: 'string' },
      'invite-code': { type: 'string' },
      ref: { type: 'string' },
      count: { type: 'string' },
      uses: { type: 'string' },
      for: { type: 'string' },
      account: { type: 'string' },
    },
  })
  const [word, ...rest] = positionals
  if (flags.help || !word) {
    console.log(HELP)
    return
  }
  const entry = COMMANDS[word]
  let command: Command | undefined
  let args = rest
  if (typeof entry === 'function') command = entry
  else if (entry) {
    command = entry[rest[0] ?? '']
    args = rest.slice(1)
    if (!command) {
      throw new CliError(`${word} needs one of: ${Object.keys(entry).join(', ')} (see --help)`)
    }
  }
  if (!command) throw new CliError(`unknown command: ${word} (see --help)`)
  const target = resolveTarget(flags, process.env)
  await command({
    client: createClient(target),
    out: createOutput(flags.json),
    target,
    args,
    flags,
  })
}

main().catch((err: unknown) => {
  if (err instanceof CliError || err instanceof TargetError) {
    console.error(`error: ${err.message}`)
    process.exit(err instanceof CliError ? err.exitCode : 1)
  }
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`error: ${(err as Error).message} (see --help)`)
    process.exit(1)
  }
  console.error(err)
  process.exit(1)
})
