/** Accounts for the OAuth end-to-end tests, made with the official client. */
import { AtpAgent } from '@atproto/api'

export const PASSWORD = 'correct horse battery staple'

export interface TestAccount {
  did: string
  handle: string
  email: string
}

export async function createTestAccount(pdsUrl: string, prefix: string): Promise<TestAccount> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  const email = `${handle}@example.com`
  await agent.createAccount({ handle, email, password: PASSWORD })
  return { did: agent.session!.did, handle, email }
}
