/**
 * `npm run backup -- --handle H --dir D [--pds URL]`: a verified copy of an account in a
 * folder (see layout.ts), brought up to date by later runs with only what changed, or kept
 * in step with the firehose with `--follow` (follow.ts).
 * `npm run backup -- verify --dir D` checks the folder, and that it is as new as the live repo.
 */
import { checkPdsUrl, findAccount, signInTo } from '../client/account.ts'
import { log, parseCommandLine, runCommand, UsageError } from '../client/command.ts'
import { XrpcClient } from '../client/xrpc.ts'
import { followBackup } from './follow.ts'
import { BackupFolder, checkBackup } from './layout.ts'
import { runBackup } from './run.ts'

const USAGE = `Back up an account to a folder, or check a backup.

  npm run backup -- --handle H --dir D [--pds URL] [--plc-url URL] [--follow]
  npm run backup -- verify --dir D

  --handle H      the account's handle or DID
  --dir D         the backup folder (created; later runs update it)
  --pds URL       its PDS, when the handle does not resolve through DNS or HTTPS
  --plc-url URL   PLC directory (default https://plc.directory, or BACKUP_PLC_URL)
  --follow        keep running: apply each commit from the firehose, verified, as it comes
                  (stop with Ctrl-C; run again to resume from the saved cursor)
  --firehose URL  follow this service's subscribeRepos instead of the PDS's (e.g. a relay)

Environment: ATPROTO_PASSWORD (an app password is enough; otherwise asked, never shown).`

runCommand(USAGE, async () => {
  const { positionals, values } = parseCommandLine({
    handle: { type: 'string' },
    dir: { type: 'string' },
    pds: { type: 'string' },
    'plc-url': { type: 'string' },
    follow: { type: 'boolean' },
    firehose: { type: 'string' },
  })
  if (!values.dir) throw new UsageError('--dir is required')
  const folder = new BackupFolder(values.dir)
  if (positionals[0] === 'verify') {
    await verifyFolder(folder)
    return
  }
  if (positionals.length > 0) throw new UsageError(`unknown action ${positionals[0]}`)
  if (!values.handle) throw new UsageError('--handle is required')
  if (values.firehose && !values.follow) throw new UsageError('--firehose goes with --follow')
  const firehoseUrl = checkServiceUrl('--firehose', values.firehose)
  const plcUrl = values['plc-url'] ?? process.env.BACKUP_PLC_URL ?? 'https://plc.directory'
  const account = await findAccount(values.handle, checkPdsUrl('--pds', values.pds), plcUrl)
  await signInTo(account, process.env)
  if (!values.follow) {
    await runBackup(account, folder, plcUrl)
    return
  }
  const firehose = firehoseUrl ?? account.pds
  const stop = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())
  await followBackup(account, folder, { firehose, plcUrl, signal: stop.signal })
})

function checkServiceUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  return checkPdsUrl(flag, value.replace(/^ws(s?):/, 'http$1:'))
}

async function verifyFolder(folder: BackupFolder): Promise<void> {
  const backup = await checkBackup(folder)
  log(
    `${folder.dir}: ${backup.records.size} records at rev ${backup.meta.rev} (signature and ` +
      `tree verified), ${backup.blobs.length} blobs (hashes verified), ` +
      `${backup.preferences.length} preferences.`,
  )
  const live = await new XrpcClient(backup.meta.pds, 'the PDS')
    .query<{ rev: string }>('com.atproto.sync.getLatestCommit', {
      params: { did: backup.meta.did },
      auth: 'none',
    })
    .catch((err: Error) => {
      log(`The live repo could not be read (${err.message}).`)
      return null
    })
  if (live && live.rev !== backup.meta.rev) {
    log(`The live repo is at rev ${live.rev}: run the backup again to catch up.`)
  } else if (live) log('The live repo is at the same rev.')
}
