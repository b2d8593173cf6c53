/**
 * The following backup's tests' tools: a mix of writes on an account (creates, updates,
 * deletes, posts with new blobs) kept in the SeededAccount's expected records and blobs,
 * waiting until a backup folder has caught up with the live repo, and a folder read back
 * independently of the command (`@atproto/repo`) to compare two folders.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AtpAgent } from '@atproto/api'
import { readCarWithRoot, verifyRepoCar } from '@atproto/repo'
import type { CommandRun, RunningCommand } from './account-command.ts'
import type { SeededAccount } from './migration.ts'

/**
 * `count` writes, one commit each: of every ten, one post with a new image blob, four plain
 * posts, two updates of earlier posts, one update of the profile, two deletes of earlier
 * posts. `beforeWrite(i)` runs before the i-th (to stop or start things mid-stream).
 */
export async function writeMix(
  agent: AtpAgent,
  account: SeededAccount,
  count: number,
  beforeWrite: (i: number) => Promise<void> | void = () => {},
): Promise<void> {
  const repo = account.did
  const plain: string[] = []
  const createdAt = () => new Date().toISOString()
  const remember = (uri: string, cid: string) => {
    const path = uri.split('/').slice(-2).join('/')
    account.records.set(path, cid)
    return path
  }
  for (let i = 0; i < count; i++) {
    await beforeWrite(i)
    const kind = i % 10
    if (kind === 0) {
      const bytes = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(3_000 + i)])
      const { data } = await agent.com.atproto.repo.uploadBlob(bytes, { encoding: 'image/png' })
      account.blobs.set(data.blob.ref.toString(), createHash('sha256').update(bytes).digest('hex'))
      const res = await agent.com.atproto.repo.createRecord({
        repo,
        collection: 'app.bsky.feed.post',
        record: {
          text: `with image ${i}`,
          createdAt: createdAt(),
          embed: { $type: 'app.bsky.embed.images', images: [{ image: data.blob, alt: `${i}` }] },
        },
      })
      remember(res.data.uri, res.data.cid)
    } else if (kind <= 4) {
      const res = await agent.com.atproto.repo.createRecord({
        repo,
        collection: 'app.bsky.feed.post',
        record: { text: `post ${i}`, createdAt: createdAt() },
      })
      plain.push(remember(res.data.uri, res.data.cid))
    } else if (kind <= 6) {
      const path = plain[plain.length - 1 - (kind - 5)]!
      const rkey = path.split('/')[1]!
      const res = await agent.com.atproto.repo.putRecord({
        repo,
        collection: 'app.bsky.feed.post',
        rkey,
        record: { text: `post edited at ${i}`, createdAt: createdAt() },
      })
      remember(res.data.uri, res.data.cid)
    } else if (kind === 7) {
      const res = await agent.com.atproto.repo.putRecord({
        repo,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        record: { displayName: `Following ${i}` },
      })
      remember(res.data.uri, res.data.cid)
    } else {
      const path = plain.shift()!
      await agent.com.atproto.repo.deleteRecord({
        repo,
        collection: 'app.bsky.feed.post',
        rkey: path.split('/')[1]!,
      })
      account.records.delete(path)
    }
  }
}

/** Resolves once the folder's saved rev is the live repo's (and stays so for a moment). */
export async function untilCaughtUp(
  dir: string,
  pdsUrl: string,
  did: string,
  follower: RunningCommand,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void follower.exited.then(() => {
    exited = true
  })
  const { rev } = (await (
    await fetch(`${pdsUrl}/xrpc/com.atproto.sync.getLatestCommit?did=${did}`)
  ).json()) as { rev: string }
  while (savedRev(dir) !== rev) {
    if (exited || Date.now() > deadline) {
      throw new Error(
        `the backup is at ${savedRev(dir)}, the live repo at ${rev}; the follower ` +
          `${exited ? 'exited' : 'is still running'}:\n${follower.output()}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return rev
}

function savedRev(dir: string): string | null {
  const file = join(dir, 'backup.json')
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { rev: string }).rev : null
}

export interface FolderContents {
  commit: string
  rev: string
  /** `collection/rkey` → record CID. */
  records: Map<string, string>
  /** CID → SHA-256 of the file. */
  blobs: Map<string, string>
  preferences: unknown
}

/** A backup folder read with the reference's repo code, its commit checked against `key`. */
export async function readFolder(dir: string, key: string): Promise<FolderContents> {
  const car = readFileSync(join(dir, 'repo.car'))
  const meta = JSON.parse(readFileSync(join(dir, 'backup.json'), 'utf8'))
  const verified = await verifyRepoCar(car, meta.did, key)
  const { root } = await readCarWithRoot(car)
  const blobs = new Map(
    readdirSync(join(dir, 'blobs')).map((cid) => [
      cid,
      createHash('sha256')
        .update(readFileSync(join(dir, 'blobs', cid)))
        .digest('hex'),
    ]),
  )
  return {
    commit: root.toString(),
    rev: verified.commit.rev,
    records: new Map(verified.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()])),
    blobs,
    preferences: JSON.parse(readFileSync(join(dir, 'preferences.json'), 'utf8')),
  }
}

/** Resolves once a running command has printed a line matching `pattern`. */
export async function untilOutput(
  running: RunningCommand,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  let exited = false
  void running.exited.then(() => {
    exited = true
  })
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(running.output())) {
    if (exited || Date.now() > deadline) {
      throw new Error(`no ${pattern} in:\n${running.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** SIGTERM, as Ctrl-C would; the follower must stop cleanly within seconds. */
export async function stopFollower(follower: RunningCommand): Promise<CommandRun> {
  follower.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), 10_000)
  })
  const run = await Promise.race([follower.exited, late])
  clearTimeout(timer)
  if (run) return run
  follower.child.kill('SIGKILL')
  throw new Error(`the follower did not stop on SIGTERM:\n${follower.output()}`)
}
