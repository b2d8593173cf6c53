/**
 * The account a command works on: its DID and its PDS, from a handle or DID (and, for a
 * handle the DNS cannot resolve, such as a local one, the PDS's URL), and a signed-in client.
 */

import { CommandError } from './command.ts'
import { isUrl, pdsEndpoint, resolveDidDocument, resolveHandle } from './identity.ts'
import { askSecret } from './secret-prompt.ts'
import { signIn } from './sign-in.ts'
import { XrpcClient } from './xrpc.ts'

/** The account password comes from here or is asked; it is never a flag (shell history). */
export const PASSWORD_ENV = 'ATPROTO_PASSWORD'

export interface Account {
  did: string
  pds: string
  client: XrpcClient
}

export async function findAccount(
  handleOrDid: string,
  pds: string | undefined,
  plcUrl: string,
): Promise<Account> {
  let did: string
  if (handleOrDid.startsWith('did:')) did = handleOrDid
  else if (pds) {
    const client = new XrpcClient(pds, 'the PDS')
    ;({ did } = await client.query<{ did: string }>('com.atproto.identity.resolveHandle', {
      params: { handle: handleOrDid.replace(/^@/, '').toLowerCase() },
      auth: 'none',
    }))
  } else did = await resolveHandle(handleOrDid)
  const endpoint = pds ?? pdsEndpoint(await resolveDidDocument(did, plcUrl))
  if (!endpoint) throw new CommandError(`the DID document of ${did} names no PDS: give --pds`)
  return { did, pds: endpoint, client: new XrpcClient(endpoint, 'the PDS') }
}

export async function signInTo(account: Account, env: NodeJS.ProcessEnv): Promise<void> {
  const password =
    env[PASSWORD_ENV] || (await askSecret(`Password for ${account.did} at ${account.pds}: `))
  if (!password) throw new CommandError('no password given')
  await signIn(account.client, account.did, password, PASSWORD_ENV)
}

export function checkPdsUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!isUrl(value)) throw new CommandError(`${flag} must be an http(s) URL`)
  return new URL(value).origin
}
