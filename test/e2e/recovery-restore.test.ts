/**
 * Leaving a PDS that has vanished (issue 19), as a user does it with the three commands: an
 * account on PDS A gets a recovery key (`npm run recovery-key`), is backed up
 * (`npm run backup`, then again after more writes, then `--follow` through 200 more, killed
 * and resumed on the way; a firehose with one altered commit is refused), A is stopped and its
 * state deleted, and `npm run restore` brings the account to PDS B (the suite's PDS) with the
 * paper key and the followed folder alone. A and B share the suite's PLC directory, which
 * outlives A.
 */
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent } from '@atproto/api'
import { blocksToCarFile, readCarWithRoot } from '@atproto/repo'
import { decode } from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { encodePaperKey } from '../../cli/recovery-key/paper-key.ts'
import { PlcClient } from '../../src/identity/index.ts'
import { readCar } from '../../src/repo/car.ts'
import {
  type CommandRun,
  paperKeyIn,
  runAccountCommand,
  startAccountCommand,
  typeBack,
} from '../helpers/account-command.ts'
import { readAccountToken } from '../helpers/account-token.ts'
import {
  readFolder,
  stopFollower,
  untilCaughtUp,
  untilOutput,
  writeMix,
} from '../helpers/backup-follow.ts'
import {
  recordFirehose,
  serveFirehose,
  withBadSignature,
  withBrokenPrevData,
} from '../helpers/firehose-stand-in.ts'
import {
  expectAccountOn,
  MIGRATION_PASSWORD,
  type SeededAccount,
  seedAccount,
  watchFirehose,
} from '../helpers/migration.ts'
import { type DevServer, startDevServer } from './dev-server.ts'

const pdsB = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const plc = new PlcClient(plcUrl)
const env = { ATPROTO_PASSWORD: MIGRATION_PASSWORD }

describe('recovery key, backup and restore without the old PDS', () => {
  let a: DevServer
  let account: SeededAccount
  let paperKey: string[]
  let recoveryDidKey: string
  const dir = mkdtempSync(join(tmpdir(), 'edge-pds-backup-'))
  const early = mkdtempSync(join(tmpdir(), 'edge-pds-backup-early-'))
  const backupArgs = (folder: string) => [
    '--handle',
    account.handle,
    '--pds',
    a.pdsUrl,
    '--dir',
    folder,
    '--plc-url',
    plcUrl,
  ]
  const signedInAgent = async () => {
    const agent = new AtpAgent({ service: a.pdsUrl })
    await agent.login({ identifier: account.handle, password: MIGRATION_PASSWORD })
    return agent
  }
  const signingKeyOfA = async () =>
    (await plc.getDocumentData(account.did)).verificationMethods.atproto!
  const email = () => `${account.handle}@example.com`
  /** The PLC audit log's length and newest CID: equal before and after means untouched. */
  const plcHead = async () => {
    const log = await plc.getAuditLog(account.did)
    return { length: log.length, last: log.at(-1)?.cid }
  }
  /** B has no repo for the DID: a refused restore created nothing there. */
  const expectNothingOnB = async () => {
    const res = await fetch(`${pdsB}/xrpc/com.atproto.sync.getRepoStatus?did=${account.did}`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'RepoNotFound' })
  }

  beforeAll(async () => {
    a = await startDevServer({ env: { PDS_PLC_URL: plcUrl } })
    account = await seedAccount(a.pdsUrl, { records: 30, blobs: 3, videoBytes: 40_000 })
  }, 180_000)

  afterAll(async () => {
    await a?.stop()
    a?.removeState()
    rmSync(dir, { recursive: true, force: true })
    rmSync(early, { recursive: true, force: true })
  })

  it('refuses a code mailed for another purpose and changes nothing at the PLC', async () => {
    const agent = new AtpAgent({ service: a.pdsUrl })
    await agent.login({ identifier: account.handle, password: MIGRATION_PASSWORD })
    await agent.com.atproto.server.requestAccountDelete()
    const deleteCode = await readAccountToken(
      { fetch, baseUrl: a.pdsUrl },
      email(),
      'delete_account',
    )
    const before = await plcHead()
    let groups: string[] = []
    const run = await runAccountCommand(
      'recovery-key',
      ['add', '--handle', account.handle, '--pds', a.pdsUrl, '--plc-url', plcUrl],
      {
        env,
        answer: (question, output) => {
          groups = paperKeyIn(output)
          return typeBack(question, groups) ?? deleteCode
        },
      },
    )
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(/the PDS refused to sign .*nothing was changed/)
    expect(await plcHead()).toEqual(before)
  })

  it('adds a recovery key first in the rotation keys, with the emailed code', async () => {
    const run = await runAccountCommand(
      'recovery-key',
      ['add', '--handle', account.handle, '--pds', a.pdsUrl, '--plc-url', plcUrl],
      {
        env,
        answer: (question, output) => {
          const typed = typeBack(question, paperKeyIn(output))
          if (typed) return typed
          return readAccountToken({ fetch, baseUrl: a.pdsUrl }, email(), 'plc_operation')
        },
      },
    )
    expect(run.code, run.output).toBe(0)
    paperKey = paperKeyIn(run.output)
    recoveryDidKey = /Its public key: (did:key:\S+)/.exec(run.output)![1]!
    const data = await plc.getDocumentData(account.did)
    expect(data.rotationKeys[0]).toBe(recoveryDidKey)
    expect(data.rotationKeys.length).toBe(2)
    // The key never reaches the PDS: only the public did:key is in the operation.
    expect(JSON.stringify(await plc.getAuditLog(account.did))).not.toContain(paperKey.join(''))

    const list = await runAccountCommand(
      'recovery-key',
      ['list', '--handle', account.handle, '--pds', a.pdsUrl, '--plc-url', plcUrl],
      { env },
    )
    expect(list.code, list.output).toBe(0)
    expect(list.output).toContain(`1. ${recoveryDidKey}  yours`)
    expect(list.output).toMatch(/2\. did:key:\S+ {2}the PDS's/)
  })

  it('backs up the account, then only what changed', async () => {
    const args = ['--handle', account.handle, '--pds', a.pdsUrl, '--dir', dir, '--plc-url', plcUrl]
    const first = await runAccountCommand('backup', args, { env })
    expect(first.code, first.output).toBe(0)

    // More writes: a post with a new blob, and a deleted record.
    const agent = new AtpAgent({ service: a.pdsUrl })
    await agent.login({ identifier: account.handle, password: MIGRATION_PASSWORD })
    const bytes = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(9_000)])
    const { data: upload } = await agent.com.atproto.repo.uploadBlob(bytes, {
      encoding: 'image/png',
    })
    const post = await agent.post({
      text: 'after the first backup',
      createdAt: new Date().toISOString(),
      embed: { $type: 'app.bsky.embed.images', images: [{ image: upload.blob, alt: 'late' }] },
    })
    account.records.set(`app.bsky.feed.post/${post.uri.split('/').pop()}`, post.cid)
    account.blobs.set(upload.blob.ref.toString(), createHash('sha256').update(bytes).digest('hex'))
    const gone = [...account.records.keys()].find((path) => path.startsWith('app.bsky.graph'))!
    const [collection, rkey] = gone.split('/') as [string, string]
    await agent.com.atproto.repo.deleteRecord({ repo: account.did, collection, rkey })
    account.records.delete(gone)

    const second = await runAccountCommand('backup', args, { env })
    expect(second.code, second.output).toBe(0)
    expect(second.output).toMatch(/changes since \S+\), 1 new blobs/)
    const meta = JSON.parse(readFileSync(join(dir, 'backup.json'), 'utf8'))
    expect(meta).toMatchObject({ did: account.did, handle: account.handle, pds: a.pdsUrl })

    const verify = await runAccountCommand('backup', ['verify', '--dir', dir])
    expect(verify.code, verify.output).toBe(0)
    expect(verify.output).toContain(`${account.records.size} records`)
    expect(verify.output).toContain(`${account.blobs.size} blobs`)
    expect(verify.output).toContain('The live repo is at the same rev.')
  })

  it('follows the firehose through 200 writes, killed mid-stream and resumed, to what a fresh backup holds', async () => {
    const follow = () =>
      startAccountCommand('backup', [...backupArgs(dir), '--follow'], { env, timeoutMs: 180_000 })
    let follower = follow()
    await untilOutput(follower, /Following \S+ from now/)
    // The folder as it stands before the writes: the tampered-stream test starts from it.
    cpSync(dir, early, { recursive: true })
    // Each save replaces repo.car by a rename; they come at most once a second, not per commit.
    let carSaves = 0
    const watcher = watch(dir, (event, file) => {
      if (event === 'rename' && file === 'repo.car') carSaves++
    })
    const started = Date.now()

    let killed: CommandRun | undefined
    await writeMix(await signedInAgent(), account, 200, async (i) => {
      if (i === 80) {
        follower.child.kill('SIGKILL')
        killed = await follower.exited
      }
      if (i === 120) follower = follow()
    })
    await untilCaughtUp(dir, a.pdsUrl, account.did, follower)
    const resumed = await stopFollower(follower)
    watcher.close()
    const seconds = (Date.now() - started) / 1000
    // One a second, plus the killed run's and the resumed run's first and last.
    expect(carSaves, `${carSaves} saves in ${seconds} s`).toBeLessThanOrEqual(
      Math.ceil(seconds) + 4,
    )
    expect(carSaves).toBeGreaterThan(0)
    expect(killed?.code, killed?.output).toBe(null)
    expect(resumed.code, resumed.output).toBe(0)
    // It resumed from its saved cursor, after commits the killed run had applied and saved.
    const resumedFrom = /Resuming \S+ from seq (\d+) \(rev \S+, (\d+) commits applied/.exec(
      resumed.output,
    )
    expect(resumedFrom, resumed.output).not.toBeNull()
    expect(Number(resumedFrom![2])).toBeGreaterThan(0)
    // Every commit came from the stream, verified: no fallback to the PDS was needed.
    expect(`${killed!.output}${resumed.output}`).not.toContain('not applied')
    const state = JSON.parse(readFileSync(join(dir, 'follow.json'), 'utf8'))
    expect(state.commitsApplied).toBeGreaterThanOrEqual(195)
    expect(state.seq).toBeGreaterThan(Number(resumedFrom![1]))

    const fresh = mkdtempSync(join(tmpdir(), 'edge-pds-backup-fresh-'))
    try {
      const full = await runAccountCommand('backup', backupArgs(fresh), { env })
      expect(full.code, full.output).toBe(0)
      const key = await signingKeyOfA()
      const followed = await readFolder(dir, key)
      expect(followed).toEqual(await readFolder(fresh, key))
      expect(followed.records).toEqual(account.records)
      expect(followed.blobs).toEqual(account.blobs)
    } finally {
      rmSync(fresh, { recursive: true, force: true })
    }
  }, 120_000)

  it('refuses a commit with a bad signature or a broken prevData on the stream, and fetches the changes instead', async () => {
    const head = await latestCommit(a.pdsUrl, account.did)
    const frames = await recordFirehose(
      a.pdsUrl,
      (f) => f.body.repo === account.did && f.body.rev === head.rev,
    )
    const earlyMeta = JSON.parse(readFileSync(join(early, 'backup.json'), 'utf8'))
    const commits = frames.filter((f) => f.header.t === '#commit' && f.body.repo === account.did)
    const first = commits.findIndex((f) => f.body.since === earlyMeta.rev)
    expect(commits.length - first).toBe(200)
    // The 16th commit after the saved state is altered; the 15 before it are genuine.
    const target = commits[first + 15]!
    const cursor = commits[first]!.seq - 1
    const cases = [
      { tampered: await withBadSignature(target), reason: /its commit signature does not verify/ },
      {
        tampered: withBrokenPrevData(target),
        reason: /its prevData \S+ is not the local tree's root/,
      },
    ]
    const key = await signingKeyOfA()
    const expected = await readFolder(dir, key)
    for (const { tampered, reason } of cases) {
      const standIn = await serveFirehose(frames.map((f) => (f === target ? tampered : f)))
      const copy = mkdtempSync(join(tmpdir(), 'edge-pds-backup-tampered-'))
      try {
        cpSync(early, copy, { recursive: true })
        writeFileSync(
          join(copy, 'follow.json'),
          JSON.stringify({
            version: 1,
            firehose: standIn.url,
            seq: cursor,
            rev: earlyMeta.rev,
            commitsApplied: 0,
            account: null,
            updatedAt: new Date().toISOString(),
          }),
        )
        const follower = startAccountCommand(
          'backup',
          [...backupArgs(copy), '--follow', '--firehose', standIn.url],
          { env },
        )
        await untilCaughtUp(copy, a.pdsUrl, account.did, follower, 30_000)
        const run = await stopFollower(follower)
        expect(run.code, run.output).toBe(0)
        expect(standIn.cursors[0]).toBe(cursor)
        const refused = new RegExp(
          `seq ${target.seq} \\(rev ${target.body.rev}\\) not applied: ${reason.source}[^;]*; ` +
            `fetching the changes since \\S+ from the PDS`,
        )
        expect(run.output).toMatch(refused)
        // The 15 genuine commits were applied from the stream, the altered one and those
        // after it (already in what the PDS sent) were not.
        const state = JSON.parse(readFileSync(join(copy, 'follow.json'), 'utf8'))
        expect(state.commitsApplied).toBe(15)
        expect(run.output.match(/not applied/g)).toHaveLength(1)
        // Never saved: the folder is at the PDS's head, and the re-signed commit is not in it.
        const meta = JSON.parse(readFileSync(join(copy, 'backup.json'), 'utf8'))
        expect(meta.commit).toBe(head.cid)
        const car = await readCar(readFileSync(join(copy, 'repo.car')))
        expect(car.blocks.has(String(tampered.body.commit))).toBe(false)
        expect(await readFolder(copy, key)).toEqual(expected)
      } finally {
        await standIn.close()
        rmSync(copy, { recursive: true, force: true })
      }
    }
  }, 90_000)

  it('restores onto another PDS after the old one is gone', async () => {
    await a.stop()
    a.removeState()
    const restoreArgs = (folder: string) => [
      '--dir',
      folder,
      '--to',
      pdsB,
      '--email',
      email(),
      '--plc-url',
      plcUrl,
    ]
    const before = await plcHead()
    const refused = async (folder: string, message: RegExp, extra: string[] = []) => {
      const run = await runAccountCommand('restore', [...restoreArgs(folder), ...extra], {
        env: { ...env, RESTORE_RECOVERY_KEY: paperKey.join(' ') },
      })
      expect(run.code, run.output).toBe(1)
      expect(run.output).toMatch(message)
      expect(run.output).toContain('nothing was changed')
      expect(await plcHead()).toEqual(before)
      await expectNothingOnB()
    }
    /** A copy of the backup with `damage` done to it. */
    const damaged = async (damage: (copy: string) => Promise<void> | void, message: RegExp) => {
      const copy = mkdtempSync(join(tmpdir(), 'edge-pds-backup-bad-'))
      try {
        cpSync(dir, copy, { recursive: true })
        await damage(copy)
        await refused(copy, message)
      } finally {
        rmSync(copy, { recursive: true, force: true })
      }
    }

    // A key that is not the DID's: refused before anything is signed.
    const stranger = encodePaperKey(randomBytes(32)).join(' ')
    const wrong = await runAccountCommand('restore', restoreArgs(dir), {
      env: { ...env, RESTORE_RECOVERY_KEY: stranger },
    })
    expect(wrong.code, wrong.output).toBe(1)
    expect(wrong.output).toMatch(/is not one of did:plc:\S+ rotation keys; nothing was changed/)
    expect(await plcHead()).toEqual(before)
    await expectNothingOnB()

    // The whole folder is checked before the PLC directory is touched: one byte of a block...
    await damaged((copy) => {
      const car = readFileSync(join(copy, 'repo.car'))
      car[Math.floor(car.length / 2)]! ^= 0xff
      writeFileSync(join(copy, 'repo.car'), car)
    }, /repo\.car does not verify: .*; nothing was changed/)
    // ...the MST's root node missing (every block present otherwise)...
    await damaged(async (copy) => {
      const { root, blocks } = await readCarWithRoot(readFileSync(join(copy, 'repo.car')))
      const commit = decode(blocks.get(root)!) as { data: CID }
      blocks.delete(commit.data)
      writeFileSync(join(copy, 'repo.car'), await blocksToCarFile(root, blocks))
    }, /repo\.car does not verify: .*; nothing was changed/)
    // ...and a blob whose bytes are not its CID's.
    await damaged((copy) => {
      const cid = [...account.blobs.keys()][1]!
      const bytes = readFileSync(join(copy, 'blobs', cid))
      bytes[bytes.length - 1]! ^= 0xff
      writeFileSync(join(copy, 'blobs', cid), bytes)
    }, /blob \S+ in \S+ is corrupted; nothing was changed/)

    // A handle B already gives to another account: refused before the first PLC operation.
    const other = await new AtpAgent({ service: pdsB }).createAccount({
      handle: `taken${randomBytes(4).toString('hex')}.test`,
      email: `taken${randomBytes(4).toString('hex')}@example.com`,
      password: MIGRATION_PASSWORD,
    })
    await refused(
      dir,
      /belongs to another account \(did:plc:\S+\) on http\S+: give another --handle/,
      ['--handle', other.data.handle],
    )

    const firehose = watchFirehose(pdsB, plcUrl)
    try {
      const run = await runAccountCommand('restore', restoreArgs(dir), {
        env: { ...env, RESTORE_RECOVERY_KEY: paperKey.join('-') },
      })
      expect(run.code, run.output).toBe(0)

      expect(await expectAccountOn(pdsB, plcUrl, account)).toEqual([])
      const data = await plc.getDocumentData(account.did)
      expect(data.rotationKeys[0]).toBe(recoveryDidKey)
      const creds = await recommendedOnB(account)
      expect(data.verificationMethods).toEqual(creds.verificationMethods)
      expect(data.services.atproto_pds?.endpoint).toBe(pdsB)

      // A relay's consumer accepts B's events for the DID, up to the new head.
      const head = await fetch(
        `${pdsB}/xrpc/com.atproto.sync.getLatestCommit?did=${account.did}`,
      ).then((r) => r.json() as Promise<{ rev: string }>)
      const deadline = Date.now() + 30_000
      const ofDid = () => firehose.events.filter((e) => e.did === account.did)
      while (!ofDid().some((e) => e.event === 'sync' && e.rev === head.rev)) {
        if (Date.now() > deadline) throw new Error(`no #sync at ${head.rev}: ${ofDid().length}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(ofDid().some((e) => e.event === 'account' && e.active)).toBe(true)
      expect(firehose.errors.filter((e) => String(e).includes(account.did))).toEqual([])
    } finally {
      await firehose.stop()
    }
  }, 180_000)
})

async function recommendedOnB(account: SeededAccount) {
  const agent = new AtpAgent({ service: pdsB })
  await agent.login({ identifier: account.did, password: MIGRATION_PASSWORD })
  return (await agent.com.atproto.identity.getRecommendedDidCredentials()).data
}

function latestCommit(pdsUrl: string, did: string): Promise<{ cid: string; rev: string }> {
  return fetch(`${pdsUrl}/xrpc/com.atproto.sync.getLatestCommit?did=${did}`).then(
    (r) => r.json() as Promise<{ cid: string; rev: string }>,
  )
}
