/**
 * The migrate command against the reference PDS (`@atproto/pds`): an account moves from the
 * reference to the reference (the command alone), and from the reference to ours and back,
 * every time checked independently: PLC document, repo verified against its key, records and
 * CIDs, blob bytes, preferences, and a relay's firehose consumer on each side.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, startDevServer } from '../e2e/dev-server.ts'
import {
  expectAccountOn,
  type FirehoseWatch,
  ourPlcToken,
  runMigrate,
  type SeededAccount,
  seedAccount,
  watchFirehose,
} from '../helpers/migration.ts'
import { startTestPlc, type TestPlc } from '../helpers/plc.ts'
import { type ReferencePds, startReferencePds } from './reference.ts'

const SEED = { records: 1000, blobs: 20, videoBytes: 20 * 1024 * 1024 }

describe('migrate with the reference PDS', () => {
  let plc: TestPlc
  let refA: ReferencePds
  let refB: ReferencePds
  let ours: DevServer
  let stateDir: string
  const watches: FirehoseWatch[] = []

  beforeAll(async () => {
    plc = await startTestPlc()
    // One after the other: a failed start leaves the started ones assigned, for afterAll.
    refA = await startReferencePds(plc.url)
    refB = await startReferencePds(plc.url)
    ours = await startDevServer({
      env: {
        PDS_PLC_URL: plc.url,
        PDS_RATE_LIMITS_ENABLED: 'false',
      },
    })
    for (const url of [refA.url, refB.url, ours.pdsUrl]) watches.push(watchFirehose(url, plc.url))
    stateDir = mkdtempSync(join(tmpdir(), 'migrate-interop-'))
  })

  afterAll(async () => {
    await Promise.all(watches.map((w) => w.stop()))
    await Promise.all([refA?.stop(), refB?.stop(), ours?.stop()])
    ours?.removeState()
    await plc?.cleanup()
    if (stateDir) rmSync(stateDir, { recursive: true, force: true })
  })

  const move = async (
    account: SeededAccount,
    from: string,
    to: string,
    token: () => Promise<string>,
  ): Promise<void> => {
    const run = await runMigrate(
      [
        '--from',
        from,
        '--account',
        account.handle,
        '--to',
        to,
        '--plc-url',
        plc.url,
        '--state-dir',
        stateDir,
      ],
      { plcToken: token },
    )
    expect(run.code, run.output).toBe(0)
    expect(await expectAccountOn(to, plc.url, account)).toEqual([])
  }

  it('reference → reference', async () => {
    const account = await seedAccount(refA.url, SEED)
    await move(account, refA.url, refB.url, async () => refA.plcToken(account.did))
  })

  it('reference → ours → reference', async () => {
    const account = await seedAccount(refA.url, SEED)
    await move(account, refA.url, ours.pdsUrl, async () => refA.plcToken(account.did))
    await move(account, ours.pdsUrl, refA.url, () => ourPlcToken(ours.pdsUrl, account))
  })

  it('ours → reference → ours', async () => {
    const account = await seedAccount(ours.pdsUrl, SEED)
    await move(account, ours.pdsUrl, refB.url, () => ourPlcToken(ours.pdsUrl, account))
    await move(account, refB.url, ours.pdsUrl, async () => refB.plcToken(account.did))
  })

  it('no firehose consumer rejected anything', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    for (const watch of watches) {
      expect(watch.errors.map((e) => e.message)).toEqual([])
      expect(watch.events.length).toBeGreaterThan(0)
    }
  })
})
