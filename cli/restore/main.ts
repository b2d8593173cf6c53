/**
 * `npm run restore -- --dir D --recovery-key K --to URL --email E [--handle H]`: the account
 * in a backup folder brought back on a new PDS with the user's recovery key alone, the old
 * PDS not needed at all. See README.md, "Restore without the old PDS".
 */
import { checkPdsUrl } from '../client/account.ts'
import { parseCommandLine, runCommand, UsageError } from '../client/command.ts'
import { askSecret } from '../client/secret-prompt.ts'
import { restoreAccount } from './restore.ts'

const USAGE = `Restore an account from a backup folder onto a new PDS, with your recovery key.

  npm run restore -- --dir D --to URL --email E [options]

  --dir D            the backup folder (npm run backup)
  --to URL           the new PDS
  --email E          the account's email on the new PDS
  --handle H         the handle there (default: the one in the backup)
  --recovery-key K   the paper key (better: RESTORE_RECOVERY_KEY, or typed when asked)
  --invite-code C    if the new PDS requires one
  --plc-url URL      PLC directory (default https://plc.directory, or RESTORE_PLC_URL)

Environment: ATPROTO_PASSWORD (the new account's password; otherwise asked, never shown),
RESTORE_RECOVERY_KEY.`

runCommand(USAGE, async () => {
  const { positionals, values } = parseCommandLine({
    dir: { type: 'string' },
    to: { type: 'string' },
    email: { type: 'string' },
    handle: { type: 'string' },
    'recovery-key': { type: 'string' },
    'invite-code': { type: 'string' },
    'plc-url': { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals[0]}`)
  if (!values.dir) throw new UsageError('--dir is required')
  const to = checkPdsUrl('--to', values.to)
  if (!to) throw new UsageError('--to is required')
  if (!values.email) throw new UsageError('--email is required')
  const recoveryKey =
    values['recovery-key'] ??
    process.env.RESTORE_RECOVERY_KEY ??
    (await askSecret('Your recovery key (the groups on paper): '))
  await restoreAccount({
    dir: values.dir,
    to,
    email: values.email,
    handle: values.handle,
    inviteCode: values['invite-code'],
    recoveryKey,
    plcUrl: values['plc-url'] ?? process.env.RESTORE_PLC_URL ?? 'https://plc.directory',
    env: process.env,
  })
})
