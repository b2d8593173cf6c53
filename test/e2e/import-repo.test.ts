/**
 * importRepo end to end, as a migration tool using @atproto/api does it against `npm run dev`:
 * an account created for an existing DID, the repo exported by @atproto/repo imported, the
 * missing blob listed and uploaded, the account's state checked.
 */
import { AtpAgent } from '@atproto/api'
import { Secp256k1Keypair as AtprotoKeypair } from '@atproto/crypto'
import {
  getFullRepo,
  MemoryBlockstore,
  type RecordCreateOp,
  Repo,
  WriteOpAction,
} from '@atproto/repo'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, inject, it } from 'vitest'
import { createMigratingAccount } from '../helpers/migrating-account.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')

async function exportedRepo(
  did: string,
  key: AtprotoKeypair,
  records: Omit<RecordCreateOp, 'action'>[],
): Promise<Uint8Array> {
  const storage = new MemoryBlockstore()
  const repo = await Repo.create(
    storage,
    did,
    key,
    records.map((r) => ({ action: WriteOpAction.Create, ...r })),
  )
  const chunks: Uint8Array[] = []
  for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('importRepo through @atproto/api', () => {
  it('imports the exported repo of a migrating account; its missing blob is then uploaded', async () => {
    const account = await createMigratingAccount(pdsUrl, plcUrl, 'e2eimport')
    const agent = new AtpAgent({ service: pdsUrl })
    await agent.login({ identifier: account.handle, password: account.password })
    const image = new TextEncoder().encode('not really a png, but bytes all the same')
    const imageCid = CID.createV1(0x55, await sha256.digest(image))
    const posts = Array.from({ length: 25 }, (_, i) => ({
      collection: 'app.bsky.feed.post' as const,
      rkey: `post-${i}`,
      record: {
        $type: 'app.bsky.feed.post',
        text: `moved post ${i}`,
        createdAt: new Date(i).toISOString(),
      },
    }))
    const car = await exportedRepo(
      account.did,
      await AtprotoKeypair.import(account.key.exportPrivateKey()),
      [
        ...posts,
        {
          collection: 'app.bsky.actor.profile',
          rkey: 'self',
          record: {
            $type: 'app.bsky.actor.profile',
            displayName: 'Moved',
            avatar: { $type: 'blob', ref: imageCid, mimeType: 'image/png', size: image.length },
          },
        },
      ],
    )

    await agent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' })

    const missing = await agent.com.atproto.repo.listMissingBlobs()
    expect(missing.data.blobs).toEqual([
      { cid: imageCid.toString(), recordUri: `at://${account.did}/app.bsky.actor.profile/self` },
    ])
    const status = await agent.com.atproto.server.checkAccountStatus()
    expect(status.data).toMatchObject({
      activated: false,
      indexedRecords: 26,
      expectedBlobs: 1,
      importedBlobs: 0,
    })
    await agent.com.atproto.repo.uploadBlob(image, { encoding: 'image/png' })
    expect((await agent.com.atproto.repo.listMissingBlobs()).data.blobs).toEqual([])

    // Someone else's repo is refused, and this one stays.
    const other = await exportedRepo(
      'did:plc:someoneelse0000000000000',
      await AtprotoKeypair.create(),
      posts,
    )
    await expect(
      agent.com.atproto.repo.importRepo(other, { encoding: 'application/vnd.ipld.car' }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/belongs to/) })
    const after = await agent.com.atproto.server.checkAccountStatus()
    expect(after.data).toMatchObject({ repoCommit: status.data.repoCommit, indexedRecords: 26 })
  })
})
