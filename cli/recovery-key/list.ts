/** `recovery-key list`: the DID's rotation keys, highest priority first, and whose each is. */

import { PlcClient } from '../../src/identity/plc-client.ts'
import type { Account } from '../client/account.ts'
import { log } from '../client/command.ts'

export async function listRotationKeys(account: Account, plcUrl: string): Promise<void> {
  const data = await new PlcClient(plcUrl).getDocumentData(account.did)
  const pdsKeys = await pdsRotationKeys(account)
  log(`Rotation keys of ${account.did}, highest priority first:`)
  for (const [i, key] of data.rotationKeys.entries()) {
    const whose = pdsKeys.has(key) ? `the PDS's (${account.pds})` : "yours (not the PDS's)"
    log(`  ${i + 1}. ${key}  ${whose}`)
  }
  if (data.rotationKeys.every((key) => pdsKeys.has(key))) {
    log('You hold no recovery key: add one with `npm run recovery-key -- add`.')
  }
}

/** The keys the PDS itself signs PLC operations with (its recommended rotation keys). */
export async function pdsRotationKeys(account: Account): Promise<Set<string>> {
  const creds = await account.client.query<{ rotationKeys?: string[] }>(
    'com.atproto.identity.getRecommendedDidCredentials',
  )
  return new Set(creds.rotationKeys ?? [])
}
