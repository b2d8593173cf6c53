/**
 * `recovery-key add`: a secp256k1 key made here and never sent anywhere; only its public
 * did:key goes to the PDS, which (with the emailed code) signs the PLC operation that puts it
 * first in the rotation keys. The paper key is shown once and must be typed back in part.
 */
import { randomInt } from 'node:crypto'
import { renderUnicodeCompact } from 'uqr'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import { MAX_ROTATION_KEYS, PlcClient } from '../../src/identity/index.ts'
import type { Account } from '../client/account.ts'
import { CommandError, log } from '../client/command.ts'
import { askSecret } from '../client/secret-prompt.ts'
import { XrpcError } from '../client/xrpc.ts'
import { encodePaperKey } from './paper-key.ts'

const ATTEMPTS = 3

export async function addRecoveryKey(
  account: Account,
  plcUrl: string,
  plcToken: string | undefined,
): Promise<void> {
  const plc = new PlcClient(plcUrl)
  const before = await plc.getDocumentData(account.did)
  if (before.rotationKeys.length >= MAX_ROTATION_KEYS) {
    throw new CommandError(
      `${account.did} already has ${MAX_ROTATION_KEYS} rotation keys, the most PLC allows`,
    )
  }
  const key = await Secp256k1Keypair.create()
  const groups = encodePaperKey(key.exportPrivateKey())
  showPaperKey(groups, key.did())
  await confirmWrittenDown(groups)

  let token = plcToken
  if (!token) {
    await account.client.procedure('com.atproto.identity.requestPlcOperationSignature')
    log('The PDS has emailed you a confirmation code.')
    token = await askSecret('Confirmation code from the email: ')
    if (!token) throw new CommandError('no confirmation code given; nothing was changed')
  }
  const rotationKeys = [key.did(), ...before.rotationKeys]
  let operation: { rotationKeys?: string[] }
  try {
    ;({ operation } = await account.client.procedure<{ operation: { rotationKeys?: string[] } }>(
      'com.atproto.identity.signPlcOperation',
      { body: { token, rotationKeys } },
    ))
  } catch (err) {
    if (err instanceof XrpcError && err.status === 400) {
      throw new CommandError(
        `the PDS refused to sign (${err.error}: ${err.message}); nothing was changed. ` +
          'Run the command again without --plc-token to be sent a new code',
      )
    }
    throw err
  }
  if (operation.rotationKeys?.[0] !== key.did()) {
    throw new CommandError('the PDS signed an operation without the new key first; not submitted')
  }
  await account.client.procedure('com.atproto.identity.submitPlcOperation', {
    body: { operation },
  })
  const after = await plc.getDocumentData(account.did)
  if (after.rotationKeys[0] !== key.did()) {
    throw new CommandError(
      `the PLC directory does not list the new key first: ${after.rotationKeys.join(', ')}`,
    )
  }
  log(`Done: ${key.did()} is now the first rotation key of ${account.did}.`)
  log('Keep the paper key offline. With it and a backup, `npm run restore` brings the account')
  log('to another PDS even if this one is gone.')
}

function showPaperKey(groups: string[], didKey: string): void {
  log('Your recovery key. Write it down now: it is shown only once and stored nowhere.')
  log()
  log(`   1-7:  ${groups.slice(0, 7).join(' ')}`)
  log(`  8-14:  ${groups.slice(7).join(' ')}`)
  log()
  log(`Its public key: ${didKey}`)
  if (process.stdout.isTTY) {
    log()
    log(renderUnicodeCompact(groups.join(' '), { border: 2 }))
  }
  log()
}

/** Two groups picked at random, typed back (unechoed) before anything is changed. */
async function confirmWrittenDown(groups: string[]): Promise<void> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const a = randomInt(groups.length)
    const b = (a + 1 + randomInt(groups.length - 1)) % groups.length
    const [first, second] = a < b ? [a, b] : [b, a]
    const typed = await askSecret(
      `To check your copy, type group ${first + 1} then group ${second + 1}: `,
    )
    const words = typed
      .toLowerCase()
      .split(/[\s-]+/)
      .filter(Boolean)
    if (words.length === 2 && words[0] === groups[first] && words[1] === groups[second]) {
      return
    }
    log(`That does not match (${ATTEMPTS - attempt} tries left).`)
  }
  throw new CommandError('the recovery key was not typed back correctly; nothing was changed')
}
