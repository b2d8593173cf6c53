/**
 * Restore without the old PDS (issue 19) with the reference PDS as the new home: an account on
 * our PDS gets a recovery key (`npm run recovery-key`), is backed up (`npm run backup`), our
 * PDS is stopped and its state deleted, and `npm run restore` brings the account to the
 * reference PDS with the paper key and the folder alone. Checked without the command's help:
 * the PLC document, the repo verified against the key it names, records, blob bytes,
 * preferences, the account active, and a relay's firehose consumer verifying a new commit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent } from '@atproto/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PlcClient } from '../../src/identity/index.ts'
import { type DevServer, startDevServer } from '../e2e/dev-server.ts'
import { paperKeyIn, runAccountCommand, typeBack } from '../helpers/account-command.ts'
import {
  expectAccountOn,
  type FirehoseWatch,
  MIGRATION_PASSWORD,
  ourPlcToken,
  type SeededAccount,
  seedAccount,
  watchFirehose,
} from '../helpers/migration.ts'
import { startTestPlc, type TestPlc } from '../helpers/plc.ts'
import { type ReferencePds, startReferencePds } from './reference.ts'

const env = { ATPROTO_PASSWORD: MIGRATION_PASSWORD }

describe('restore into the reference PDS', () => {
  let plc: TestPlc
  let ref: ReferencePds
  /** A reference PDS that requires invite codes. */
  let refInvite: ReferencePds
  let ours: DevServer
  let account: SeededAccount
  let paperKey: string[]
  let recoveryDidKey: string
  let firehose: FirehoseWatch | undefined
  const dir = mkdtempSync(join(tmpdir(), 'restore-interop-'))

  beforeAll(async () => {
    plc = await startTestPlc()
    // One after the other: a failed start leaves the started ones assigned, for afterAll.
    ref = await startReferencePds(plc.url)
    refInvite = await startReferencePds(plc.url, { PDS_INVITE_REQUIRED: 'true' })
    ours = await startDevServer({ env: { PDS_PLC_URL: plc.url, PDS_RATE_LIMITS_ENABLED: 'false' } })
    account = await seedAccount(ours.pdsUrl, { records: 300, blobs: 6, videoBytes: 3_000_000 })
  })

  afterAll(async () => {
    await firehose?.stop()
    await Promise.all([ref?.stop(), refInvite?.stop(), ours?.stop()])
    ours?.removeState()
    await plc?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('gets a recovery key and a backup on our PDS, which then disappears', async () => {
    const pds = ['--handle', account.handle, '--pds', ours.pdsUrl, '--plc-url', plc.url]
    const add = await runAccountCommand('recovery-key', ['add', ...pds], {
      env,
      answer: (question, output) =>
        typeBack(question, paperKeyIn(output)) ?? ourPlcToken(ours.pdsUrl, account),
    })
    expect(add.code, add.output).toBe(0)
    paperKey = paperKeyIn(add.output)
    recoveryDidKey = /Its public key: (did:key:\S+)/.exec(add.output)![1]!

    const backup = await runAccountCommand('backup', [...pds, '--dir', dir], { env })
    expect(backup.code, backup.output).toBe(0)

    await ours.stop()
    ours.removeState()
    expect(await fetch(`${ours.pdsUrl}/xrpc/_health`).catch(() => null)).toBeNull()
  })

  const restore = (to: string) =>
    runAccountCommand(
      'restore',
      ['--dir', dir, '--to', to, '--email', account.email, '--plc-url', plc.url],
      { env: { ...env, RESTORE_RECOVERY_KEY: paperKey.join(' ') }, timeoutMs: 300_000 },
    )

  it('refuses a PDS that wants an invite code before touching the PLC directory', async () => {
    const log = await new PlcClient(plc.url).getAuditLog(account.did)
    const run = await restore(refInvite.url)
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(/requires an invite code: give --invite-code; nothing was changed/)
    const after = await new PlcClient(plc.url).getAuditLog(account.did)
    expect(after.map((e) => e.cid)).toEqual(log.map((e) => e.cid))
    const res = await fetch(
      `${refInvite.url}/xrpc/com.atproto.sync.getRepoStatus?did=${account.did}`,
    )
    expect(await res.json()).toMatchObject({ error: 'RepoNotFound' })
  })

  it('restores every record, blob and preference, the identity and an active account', async () => {
    firehose = watchFirehose(ref.url, plc.url)
    const run = await restore(ref.url)
    expect(run.code, run.output).toBe(0)

    expect(await expectAccountOn(ref.url, plc.url, account)).toEqual([])
    const agent = new AtpAgent({ service: ref.url })
    await agent.login({ identifier: account.did, password: MIGRATION_PASSWORD })
    const { data: creds } = await agent.com.atproto.identity.getRecommendedDidCredentials()
    const data = await new PlcClient(plc.url).getDocumentData(account.did)
    expect(data.rotationKeys[0]).toBe(recoveryDidKey)
    expect(data.rotationKeys.slice(1)).toEqual(creds.rotationKeys)
    expect(data.verificationMethods).toEqual(creds.verificationMethods)
    expect(data.services.atproto_pds?.endpoint).toBe(ref.url)
    expect(data.alsoKnownAs).toEqual([`at://${account.handle}`])

    const { data: status } = await agent.com.atproto.server.checkAccountStatus()
    expect(status).toMatchObject({ activated: true, validDid: true })
    const { data: repoStatus } = await agent.com.atproto.sync.getRepoStatus({ did: account.did })
    expect(repoStatus).toMatchObject({ active: true })
  })

  it("has the reference's firehose accepted by a relay's consumer for the DID", async () => {
    const watch = firehose!
    const ofDid = () => watch.events.filter((e) => e.did === account.did)
    const agent = new AtpAgent({ service: ref.url })
    await agent.login({ identifier: account.did, password: MIGRATION_PASSWORD })
    // A new post: its #commit is checked against the key the PLC document names.
    const post = await agent.post({ text: 'back home', createdAt: new Date().toISOString() })
    const deadline = Date.now() + 30_000
    while (!ofDid().some((e) => e.event === 'create' && e.uri.toString() === post.uri)) {
      if (Date.now() > deadline) {
        throw new Error(`no verified create for ${post.uri}: ${JSON.stringify(ofDid())}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(ofDid().some((e) => e.event === 'account' && e.active)).toBe(true)
    expect(ofDid().some((e) => e.event === 'identity')).toBe(true)
    expect(watch.errors.map((e) => e.message)).toEqual([])
  })
})
