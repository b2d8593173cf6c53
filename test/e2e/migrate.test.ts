/**
 * `npm run migrate` between two instances of our PDS on one local PLC directory, there and
 * back, run as a user runs it: an account of 1,000 records in four collections, 20 blobs (one a
 * 20 MB video) and preferences. The first run is killed after its first steps and the same
 * command run again finishes the move. Each destination is checked without the command's help
 * (PLC document, repo verified with `@atproto/repo` against the key it names, records and
 * CIDs, blob bytes, preferences), and a relay's firehose consumer on each side rejects nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent } from '@atproto/api'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  expectAccountOn,
  type FirehoseWatch,
  MIGRATION_PASSWORD,
  ourPlcToken,
  runMigrate,
  type SeededAccount,
  seedAccount,
  watchFirehose,
} from '../helpers/migration.ts'
import { type DevServer, startDevServer } from './dev-server.ts'

const plcUrl = inject('plcUrl')

describe('npm run migrate between two of our PDSes', { timeout: 300_000 }, () => {
  let a: DevServer
  let b: DevServer
  let account: SeededAccount
  let stateDir: string
  const watches: FirehoseWatch[] = []

  beforeAll(async () => {
    // One after the other: a failed start then leaves no server of this file running (the
    // other is already assigned, for afterAll to stop).
    const start = () => startDevServer({ env: { PDS_PLC_URL: plcUrl } })
    a = await start()
    b = await start()
    watches.push(watchFirehose(a.pdsUrl, plcUrl), watchFirehose(b.pdsUrl, plcUrl))
    stateDir = mkdtempSync(join(tmpdir(), 'migrate-e2e-'))
    account = await seedAccount(a.pdsUrl, {
      records: 1000,
      blobs: 20,
      videoBytes: 20 * 1024 * 1024,
    })
  }, 300_000)

  afterAll(async () => {
    await Promise.all(watches.map((w) => w.stop()))
    await Promise.all([a?.stop(), b?.stop()])
    a?.removeState()
    b?.removeState()
    if (stateDir) rmSync(stateDir, { recursive: true, force: true })
  })

  const args = (from: DevServer, to: DevServer, ...more: string[]): string[] => [
    '--from',
    from.pdsUrl,
    '--account',
    account.handle,
    '--to',
    to.pdsUrl,
    '--plc-url',
    plcUrl,
    '--state-dir',
    stateDir,
    ...more,
  ]
  const tokenFrom = (server: DevServer) => () => ourPlcToken(server.pdsUrl, account)
  const repoStatus = async (server: DevServer) =>
    (await fetch(`${server.pdsUrl}/xrpc/com.atproto.sync.getRepoStatus?did=${account.did}`)).json()

  it('seeded the account', () => {
    expect(account.records.size).toBe(1000)
    expect(account.blobs.size).toBe(20)
  })

  it('--dry-run reports sizes and the plan and changes nothing', async () => {
    const run = await runMigrate(args(a, b, '--dry-run'))
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/repo: [\d.]+ (KiB|MiB)/)
    expect(run.output).toMatch(/blobs: 20, 2\d\.\d+ MiB/)
    expect(run.output).toContain('preferences: 4')
    expect(run.output).toContain('Nothing was changed.')
    expect(await repoStatus(b)).toMatchObject({ error: 'RepoNotFound' })
    expect(existsSync(join(stateDir, account.did.replaceAll(':', '_')))).toBe(false)
  })

  it('a wrong password is a clear error, no stack trace, nothing changed', async () => {
    const run = await runMigrate(args(a, b), { env: { MIGRATE_OLD_PASSWORD: 'not the password' } })
    expect(run.code).toBe(1)
    expect(run.output).toMatch(/error: cannot sign in to the old PDS .* the password was refused/)
    expect(run.output).not.toMatch(/\n\s+at /)
    expect(await repoStatus(b)).toMatchObject({ error: 'RepoNotFound' })

    const unreachable = await runMigrate([
      ...['--from', a.pdsUrl, '--account', account.handle, '--plc-url', plcUrl],
      ...['--to', 'http://127.0.0.1:9', '--state-dir', join(stateDir, 'unreachable')],
    ])
    expect(unreachable.code).toBe(1)
    expect(unreachable.output).toMatch(
      /error: cannot reach the new PDS \(http:\/\/127\.0\.0\.1:9\)/,
    )
  })

  it('moves the account there, resuming after a crash', async () => {
    const crashed = await runMigrate(args(a, b), { killAtStep: 'blobs' })
    expect(crashed.signal, crashed.output).toBe('SIGKILL')
    const state = JSON.parse(
      readFileSync(join(stateDir, account.did.replaceAll(':', '_'), 'state.json'), 'utf8'),
    ) as { finished: Record<string, string> }
    expect(Object.keys(state.finished)).toEqual(['create-account', 'export-repo', 'import-repo'])
    expect(JSON.stringify(state)).not.toContain(MIGRATION_PASSWORD)

    // Meanwhile the account, still live on A, posts: the resumed run must bring it over.
    const agent = new AtpAgent({ service: a.pdsUrl })
    await agent.login({ identifier: account.did, password: MIGRATION_PASSWORD })
    const late = await agent.post({
      text: 'written mid-migration',
      createdAt: new Date().toISOString(),
    })
    account.records.set(late.uri.split('/').slice(-2).join('/'), late.cid)

    const resumed = await runMigrate(args(a, b), { plcToken: tokenFrom(a) })
    expect(resumed.code, resumed.output).toBe(0)
    expect(resumed.output).toContain('Continuing the migration')
    expect(resumed.output).toContain('at step "blobs"')
    expect(resumed.output).toContain('The old repo changed since the export')
    expect(resumed.output).toMatch(/verified: 1001 records with equal CIDs/)
    expect(await expectAccountOn(b.pdsUrl, plcUrl, account)).toEqual([])
    expect(await repoStatus(a)).toMatchObject({ active: false })
    expect(await repoStatus(b)).toMatchObject({ active: true })
  })

  it('moves it back, after a wrong PLC token', async () => {
    const refused = await runMigrate(args(b, a, '--plc-token', 'WRONG-TOKEN'))
    expect(refused.code, refused.output).toBe(1)
    expect(refused.output).toContain('already exists on')
    expect(refused.output).toMatch(/error: the old PDS refused the PLC token/)
    expect(refused.output).not.toMatch(/\n\s+at /)
    expect(await repoStatus(b)).toMatchObject({ active: true })

    const run = await runMigrate(args(b, a), { plcToken: tokenFrom(b) })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('at step "plc-sign"')
    expect(await expectAccountOn(a.pdsUrl, plcUrl, account)).toEqual([])
    expect(await repoStatus(a)).toMatchObject({ active: true })
    expect(await repoStatus(b)).toMatchObject({ active: false })
  })

  it('no firehose consumer rejected anything', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    for (const watch of watches) {
      expect(watch.errors.map((e) => e.message)).toEqual([])
      expect(watch.events.length).toBeGreaterThan(0)
    }
  })
})
