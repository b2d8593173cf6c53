/**
 * `npm run recovery-key -- add|list --handle H [--pds URL]`: a rotation key that only the
 * user holds, first in the DID's rotationKeys, so that the identity can be taken back (see
 * `npm run restore`) even if this PDS disappears. See README.md, "Hold your own recovery key".
 */
import { checkPdsUrl, findAccount, signInTo } from '../client/account.ts'
import { parseCommandLine, runCommand, UsageError } from '../client/command.ts'
import { addRecoveryKey } from './add.ts'
import { listRotationKeys } from './list.ts'

const USAGE = `Hold your own PLC recovery key.

  npm run recovery-key -- add  --handle H [--pds URL] [--plc-token T] [--plc-url URL]
  npm run recovery-key -- list --handle H [--pds URL] [--plc-url URL]

  add    makes a new key on this machine, shows it once (write it down), and puts it first
         in the DID's rotation keys (the PDS mails a confirmation code)
  list   shows the DID's rotation keys and which ones are not the PDS's

  --handle H       the account's handle or DID
  --pds URL        its PDS, when the handle does not resolve through DNS or HTTPS
  --plc-token T    the emailed confirmation code, if you already have it
  --plc-url URL    PLC directory (default https://plc.directory, or RECOVERY_PLC_URL)

Environment: ATPROTO_PASSWORD (otherwise asked, never shown).`

runCommand(USAGE, async () => {
  const { positionals, values } = parseCommandLine({
    handle: { type: 'string' },
    pds: { type: 'string' },
    'plc-token': { type: 'string' },
    'plc-url': { type: 'string' },
  })
  const action = positionals[0]
  if (action !== 'add' && action !== 'list') throw new UsageError('say add or list')
  if (!values.handle) throw new UsageError('--handle is required')
  const plcUrl = values['plc-url'] ?? process.env.RECOVERY_PLC_URL ?? 'https://plc.directory'
  const account = await findAccount(values.handle, checkPdsUrl('--pds', values.pds), plcUrl)
  await signInTo(account, process.env)
  if (action === 'add') await addRecoveryKey(account, plcUrl, values['plc-token'])
  else await listRotationKeys(account, plcUrl)
})
