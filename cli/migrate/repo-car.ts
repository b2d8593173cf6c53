/** The exported repo as a CAR file in the state folder: download, read, rebuild. */
import { createWriteStream } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { readCar } from '../../src/repo/car.ts'
import { parseCommit } from '../../src/repo/commit.ts'
import { LocalRepo } from '../client/local-repo.ts'
import { meter, startProgress } from '../client/progress.ts'
import type { Context } from './context.ts'
import type { RepoSnapshot } from './state.ts'

/** Streams `getRepo` (optionally `since` a rev) from the old PDS into `path`. */
export async function downloadRepo(
  ctx: Context,
  path: string,
  label: string,
  since?: string,
): Promise<number> {
  await ctx.oldSession()
  const res = await ctx.old.stream('com.atproto.sync.getRepo', {
    params: { did: ctx.state.did, since },
  })
  const length = Number(res.headers.get('content-length')) || undefined
  const progress = startProgress(label, { bytes: length })
  let bytes = 0
  const counted = meter(res.body!, (n) => {
    bytes += n
    progress.add(0, n)
  })
  const part = `${path}.part`
  await pipeline(Readable.fromWeb(counted as NodeReadableStream), createWriteStream(part))
  await rename(part, path)
  progress.finish()
  return bytes
}

/** The root commit's CID and rev. */
export async function snapshotOf(path: string, bytes: number): Promise<RepoSnapshot> {
  const { roots, blocks } = await readCar(await readFile(path))
  const root = roots[0]
  const block = root && blocks.get(root.toString())
  if (!block) throw new Error(`${path} holds no root commit block`)
  return { rev: parseCommit(block).rev, commit: root.toString(), bytes }
}

/**
 * The full repo at the diff's root: the earlier export's blocks plus the diff's, written as a
 * CAR of exactly what the new root reaches. Throws if a block is missing (the caller then
 * downloads the whole repo instead).
 */
export async function mergeDiff(fullPath: string, diffPath: string): Promise<number> {
  const car = await mergeRepoCars(await readFile(fullPath), await readFile(diffPath))
  await writeFile(`${fullPath}.part`, car)
  await rename(`${fullPath}.part`, fullPath)
  return car.byteLength
}

/** A full CAR and a `since` diff of it, as the full CAR at the diff's root (throws if incomplete). */
export async function mergeRepoCars(full: Uint8Array, diff: Uint8Array): Promise<Uint8Array> {
  return (await LocalRepo.merged(full, diff)).toCar()
}
