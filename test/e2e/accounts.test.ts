/**
 * Accounts, sessions and handles end to end: the official client (@atproto/api) against the
 * PDS started by `scripts/dev.mjs` (wrangler dev) and its local PLC directory.
 */
import { AtpAgent, CredentialSession } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { describe, expect, inject, it } from 'vitest'
import { getSigningKey } from '../../src/identity/index.ts'
import { startInFreshWindow } from '../helpers/windows.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const password = 'correct horse battery staple'

function uniqueHandle(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
}

async function newAccount(prefix: string) {
  const session = new CredentialSession(new URL(pdsUrl))
  const agent = new AtpAgent(session)
  const handle = uniqueHandle(prefix)
  const email = `${handle}@example.com`
  await agent.createAccount({ handle, email, password })
  return { agent, session, handle, email, did: agent.session!.did }
}

describe('accounts with @atproto/api', () => {
  it('creates two accounts backed by the PLC directory', async () => {
    const alice = await newAccount('alice')
    const bob = await newAccount('bob')
    expect(alice.did).not.toBe(bob.did)
    for (const account of [alice, bob]) {
      const doc = await (await fetch(`${plcUrl}/${account.did}`)).json()
      expect(doc.alsoKnownAs).toEqual([`at://${account.handle}`])
      expect(doc.service[0]).toMatchObject({
        type: 'AtprotoPersonalDataServer',
        serviceEndpoint: pdsUrl,
      })
      const me = await account.agent.com.atproto.server.getSession()
      expect(me.data).toMatchObject({ did: account.did, handle: account.handle, active: true })
    }
  })

  it('logs in by handle and by email, refreshes, and logs out', async () => {
    const { handle, email, did } = await newAccount('carol')
    const byHandle = new AtpAgent({ service: pdsUrl })
    await byHandle.login({ identifier: handle, password })
    expect(byHandle.session?.did).toBe(did)
    const byEmail = new AtpAgent({ service: pdsUrl })
    await byEmail.login({ identifier: email, password })
    expect(byEmail.session?.did).toBe(did)

    const session = byHandle.sessionManager as CredentialSession
    const before = session.session!.refreshJwt
    await session.refreshSession()
    expect(session.session!.refreshJwt).not.toBe(before)
    expect((await byHandle.com.atproto.server.getSession()).data.did).toBe(did)

    await byEmail.logout()
    await expect(
      new AtpAgent({ service: pdsUrl }).login({ identifier: handle, password: 'wrong password' }),
    ).rejects.toMatchObject({ status: 401, error: 'AuthenticationRequired' })
  })

  it('keeps two clients signed in that refresh with the same token at once', async () => {
    const { handle, did } = await newAccount('frank')
    const first = new AtpAgent({ service: pdsUrl })
    await first.login({ identifier: handle, password })
    const second = new AtpAgent({ service: pdsUrl })
    await second.resumeSession(first.session!)
    await Promise.all([
      (first.sessionManager as CredentialSession).refreshSession(),
      (second.sessionManager as CredentialSession).refreshSession(),
    ])
    for (const agent of [first, second]) {
      expect((await agent.com.atproto.server.getSession()).data.did).toBe(did)
    }
  })

  it('refuses an over-long login identifier or password before looking anything up', async () => {
    const agent = new AtpAgent({ service: pdsUrl })
    await expect(
      agent.login({ identifier: `${'a'.repeat(5000)}.test`, password }),
    ).rejects.toMatchObject({ status: 400, error: 'InvalidRequest' })
    await expect(
      agent.login({ identifier: 'someone.test', password: 'p'.repeat(100_000) }),
    ).rejects.toMatchObject({ status: 400, error: 'InvalidRequest' })
  })

  it('changes a handle: resolveHandle and the DID document follow', async () => {
    const { agent, did } = await newAccount('dave')
    const handle = uniqueHandle('dave2')
    await agent.com.atproto.identity.updateHandle({ handle })
    const resolved = await agent.com.atproto.identity.resolveHandle({ handle })
    expect(resolved.data.did).toBe(did)
    const doc = await (await fetch(`${plcUrl}/${did}`)).json()
    expect(doc.alsoKnownAs).toEqual([`at://${handle}`])
    expect((await agent.com.atproto.server.getSession()).data.handle).toBe(handle)
  })

  it('names the account signing key in the DID document', async () => {
    const { agent, did } = await newAccount('erin')
    const doc = await (await fetch(`${plcUrl}/${did}`)).json()
    const signingKey = getSigningKey(doc)
    expect(signingKey).toMatch(/^did:key:z/)
    // The repo's commits are signed by exactly that key.
    const car = await agent.com.atproto.sync.getRepo({ did })
    await expect(verifyRepoCar(car.data, did, signingKey!)).resolves.toBeDefined()
    const other = 'did:key:zQ3shokaHAKwpyD5M387XUn4baNCBYt2gvF9cc81vQo6HwQUm'
    await expect(verifyRepoCar(car.data, did, other)).rejects.toThrow()
  })

  it('logs in with an app password, and stops when it is revoked', async () => {
    const { agent, handle, did } = await newAccount('frank')
    const created = await agent.com.atproto.server.createAppPassword({ name: 'my phone' })
    const phone = new AtpAgent({ service: pdsUrl })
    await phone.login({ identifier: handle, password: created.data.password })
    expect(phone.session?.did).toBe(did)
    const me = await phone.com.atproto.server.getSession()
    expect(me.data.email).toBeUndefined()
    await phone.post({ text: 'posted with an app password' })

    await agent.com.atproto.server.revokeAppPassword({ name: 'my phone' })
    await expect(phone.com.atproto.server.getSession()).rejects.toMatchObject({ status: 401 })
    await expect(
      new AtpAgent({ service: pdsUrl }).login({
        identifier: handle,
        password: created.data.password,
      }),
    ).rejects.toMatchObject({ status: 401 })
  })

  it('counts wrong passwords once per account, however its identifier is spelled', async () => {
    const { handle, did, email } = await newAccount('gina')
    const spellings = [handle, ` ${handle}`, `${handle.toUpperCase()}  `, did, email]
    await startInFreshWindow(300, 30)
    // Ten wrong passwords from one address, each spelling of the account twice: one budget.
    for (let i = 0; i < 10; i++) {
      const identifier = spellings[i % spellings.length]!
      await expect(
        new AtpAgent({ service: pdsUrl }).login({ identifier, password: 'wrong password' }),
      ).rejects.toMatchObject({ status: 401 })
    }
    await expect(
      new AtpAgent({ service: pdsUrl }).login({ identifier: email, password: 'wrong again' }),
    ).rejects.toMatchObject({ status: 429, error: 'RateLimitExceeded' })
  }, 120_000)

  it('gives no app password, even a privileged one, a token to move the account away', async () => {
    const { agent, handle } = await newAccount('hank')
    const migration = { aud: 'did:web:newpds.example', lxm: 'com.atproto.server.createAccount' }
    for (const privileged of [false, true]) {
      const created = await agent.com.atproto.server.createAppPassword({
        name: `app ${privileged}`,
        privileged,
      })
      const app = new AtpAgent({ service: pdsUrl })
      await app.login({ identifier: handle, password: created.data.password })
      await expect(app.com.atproto.server.getServiceAuth(migration)).rejects.toMatchObject({
        status: 400,
      })
    }
    const full = await agent.com.atproto.server.getServiceAuth(migration)
    expect(full.data.token).toMatch(/^ey/)
  })
})
