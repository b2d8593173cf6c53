/**
 * The migrate command's catch-up: a `getRepo?since=` diff merged into the earlier full export
 * gives the full CAR of the new head (what `importRepo` needs), with the records deleted
 * meanwhile gone; a diff that does not complete the export is refused, not patched over.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secp256k1Keypair } from '@atproto/crypto'
import {
  blocksToCarFile,
  getFullRepo,
  MemoryBlockstore,
  type RecordCreateOp,
  Repo,
  verifyRepoCar,
  WriteOpAction,
} from '@atproto/repo'
import { afterAll, describe, expect, it } from 'vitest'
import { mergeDiff } from '../../scripts/migrate/repo-car.ts'

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const dir = mkdtempSync(join(tmpdir(), 'migrate-catch-up-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const post = (rkey: string): RecordCreateOp => ({
  action: WriteOpAction.Create,
  collection: 'app.bsky.feed.post',
  rkey,
  record: { $type: 'app.bsky.feed.post', text: rkey, createdAt: '2026-01-01T00:00:00.000Z' },
})

async function fullCar(storage: MemoryBlockstore, repo: Repo): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

const records = async (car: Uint8Array, key: string) =>
  (await verifyRepoCar(car, did, key)).creates.map((c) => `${c.rkey}=${c.cid.toString()}`).sort()

describe('catch-up: a since diff merged into the earlier export', () => {
  it('is the full repo of the new head', async () => {
    const key = await Secp256k1Keypair.create()
    const storage = new MemoryBlockstore()
    let repo = await Repo.create(storage, did, key, [])
    repo = await repo.applyWrites(
      Array.from({ length: 300 }, (_, i) => post(`p${String(i).padStart(6, '0')}`)),
      key,
    )
    const exportPath = join(dir, 'repo.car')
    writeFileSync(exportPath, await fullCar(storage, repo))

    // Written on the old PDS after the export: two new posts, one deleted.
    const commit = await repo.formatCommit(
      [
        post('3m22222222222'),
        post('3m22222222223'),
        {
          action: WriteOpAction.Delete,
          collection: 'app.bsky.feed.post',
          rkey: 'p000000',
        },
      ],
      key,
    )
    repo = await repo.applyCommit(commit)
    const diffPath = join(dir, 'repo.car.since')
    writeFileSync(diffPath, await blocksToCarFile(commit.cid, commit.newBlocks))

    await mergeDiff(exportPath, diffPath)
    const merged = new Uint8Array(readFileSync(exportPath))
    const expected = await fullCar(storage, repo)
    expect(await records(merged, key.did())).toEqual(await records(expected, key.did()))
    expect(await records(merged, key.did())).toHaveLength(301)
    expect(merged.byteLength).toBe(expected.byteLength)
  })

  it('refuses a diff whose base is not the export', async () => {
    const key = await Secp256k1Keypair.create()
    const storage = new MemoryBlockstore()
    const repo = await Repo.create(storage, did, key, [post('p000000')])
    const exportPath = join(dir, 'other.car')
    writeFileSync(exportPath, await fullCar(storage, repo))

    const unrelated = new MemoryBlockstore()
    let other = await Repo.create(unrelated, did, key, [])
    other = await other.applyWrites(
      Array.from({ length: 100 }, (_, i) => post(`q${String(i).padStart(6, '0')}`)),
      key,
    )
    const commit = await other.formatCommit(post('3m22222222222'), key)
    const diffPath = join(dir, 'other.car.since')
    writeFileSync(diffPath, await blocksToCarFile(commit.cid, commit.newBlocks))
    await expect(mergeDiff(exportPath, diffPath)).rejects.toThrow()
  })
})
