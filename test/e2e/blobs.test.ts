/**
 * Blobs end to end with the official client: an image and a 20 MB video uploaded, embedded in
 * posts, fetched back byte for byte with the safe headers, and gone with the post.
 *
 * The video is generated into a temporary file and uploaded as a file-backed Blob, and read
 * back as a stream: neither side holds it in memory.
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import {
  createWriteStream,
  mkdtempSync,
  openAsBlob,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent, type BlobRef } from '@atproto/api'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { hashBody } from '../helpers/hash-body.ts'

const pdsUrl = inject('pdsUrl')

/** The reference capture's 4x4 PNG (99 bytes). */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000004000000040806000000a9f19e7e0000002a4944415478da1dc8' +
    '410d003010c3b0920cc990cc74937fde66cc9c35db3030b1b8d0d0d4f22223bfb2070cd32a81024d4ac2000000' +
    '0049454e44ae426082',
  'hex',
)
const PNG_CID = 'bafkreicuq4ab2p7pw4vrd2ur4gtrejzdk73ulm63ggpwou2pjyxivse2aa'
const VIDEO_BYTES = 20 * 1024 * 1024

const dir = mkdtempSync(join(tmpdir(), 'edge-pds-blobs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function newAgent(prefix: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password: 'hunter2 hunter2' })
  return agent
}

/** Writes `size` bytes that open like an MP4 (an `ftyp` box) and returns their SHA-256. */
async function writeVideo(path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  const chunk = Buffer.alloc(256 * 1024)
  for (let written = 0; written < size; written += chunk.length) {
    for (let i = 0; i < chunk.length; i += 509) chunk[i] = (written + i) % 251
    if (written === 0) {
      chunk.writeUInt32BE(24, 0)
      chunk.write('ftypisom', 4, 'latin1')
    }
    const part = chunk.subarray(0, Math.min(chunk.length, size - written))
    hash.update(part)
    if (!out.write(part)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return hash.digest('hex')
}

function getBlobUrl(did: string, cid: string): string {
  return `${pdsUrl}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(did)}&cid=${cid}`
}

function expectSafeHeaders(res: Response, type: string, length: number): void {
  expect(res.headers.get('content-type')).toBe(type)
  expect(res.headers.get('content-length')).toBe(String(length))
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
}

describe('blobs with @atproto/api', () => {
  it('posts an image and a 20 MB video, serves them back, and drops them with the posts', async () => {
    const agent = await newAgent('media')
    const did = agent.session!.did

    const image = await agent.uploadBlob(new Uint8Array(PNG), { encoding: 'image/png' })
    expect(image.data.blob.ref.toString()).toBe(PNG_CID)
    expect(image.data.blob.mimeType).toBe('image/png')
    expect(image.data.blob.size).toBe(99)

    const videoPath = join(dir, 'video.mp4')
    const videoSha = await writeVideo(videoPath, VIDEO_BYTES)
    const video = await agent.uploadBlob(await openAsBlob(videoPath), { encoding: 'video/mp4' })
    expect(video.data.blob.mimeType).toBe('video/mp4')
    expect(video.data.blob.size).toBe(VIDEO_BYTES)
    // The CID's digest is the SHA-256 of the bytes.
    const digest = Buffer.from((video.data.blob.ref as BlobRef['ref']).multihash.digest)
    expect(digest.toString('hex')).toBe(videoSha)

    const imagePost = await agent.post({
      text: 'a tiny image',
      embed: {
        $type: 'app.bsky.embed.images',
        images: [{ alt: '4x4', image: image.data.blob, aspectRatio: { width: 4, height: 4 } }],
      },
    })
    const videoPost = await agent.post({
      text: 'a big video',
      embed: { $type: 'app.bsky.embed.video', video: video.data.blob },
    })

    const png = await fetch(getBlobUrl(did, PNG_CID))
    expect(png.status).toBe(200)
    expectSafeHeaders(png, 'image/png', 99)
    expect(Buffer.from(await png.arrayBuffer()).equals(PNG)).toBe(true)

    const videoCid = video.data.blob.ref.toString()
    const mp4 = await fetch(getBlobUrl(did, videoCid))
    expect(mp4.status).toBe(200)
    expectSafeHeaders(mp4, 'video/mp4', VIDEO_BYTES)
    expect(await hashBody(mp4)).toEqual({ sha256: videoSha, size: VIDEO_BYTES })

    const range = await fetch(getBlobUrl(did, videoCid), { headers: { range: 'bytes=1000-1999' } })
    expect(range.status).toBe(206)
    expect(range.headers.get('content-range')).toBe(`bytes 1000-1999/${VIDEO_BYTES}`)
    expect((await range.arrayBuffer()).byteLength).toBe(1000)

    const listed = await agent.com.atproto.sync.listBlobs({ did })
    expect(listed.data.cids.sort()).toEqual([PNG_CID, videoCid].sort())

    await agent.deletePost(videoPost.uri)
    const gone = await fetch(getBlobUrl(did, videoCid))
    expect(gone.status).toBe(400)
    expect(await gone.json()).toMatchObject({ error: 'BlobNotFound' })
    expect((await fetch(getBlobUrl(did, PNG_CID))).status).toBe(200)

    await agent.deletePost(imagePost.uri)
    expect((await fetch(getBlobUrl(did, PNG_CID))).status).toBe(400)
    expect((await agent.com.atproto.sync.listBlobs({ did })).data.cids).toEqual([])
  })

  it('refuses a post whose image was never uploaded here', async () => {
    const alice = await newAgent('alice')
    const bob = await newAgent('bob')
    const { data } = await bob.uploadBlob(new Uint8Array(PNG), { encoding: 'image/png' })
    await expect(
      alice.post({
        text: 'borrowed image',
        embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: data.blob }] },
      }),
    ).rejects.toMatchObject({ status: 400, error: 'BlobNotFound' })
  })

  it('takes a service-auth token for uploadBlob, as the video service sends', async () => {
    const agent = await newAgent('video')
    const pdsDid = (await agent.com.atproto.server.describeServer()).data.did
    const token = async (aud: string, lxm: string) =>
      (await agent.com.atproto.server.getServiceAuth({ aud, lxm })).data.token
    const send = (jwt: string) =>
      fetch(`${pdsUrl}/xrpc/com.atproto.repo.uploadBlob`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'image/png' },
        body: PNG,
      })

    const good = await token(pdsDid, 'com.atproto.repo.uploadBlob')
    const ok = await send(good)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ blob: { ref: { $link: PNG_CID }, size: 99 } })
    const replayed = await send(good)
    expect(replayed.status).toBe(401)

    const otherMethod = await send(await token(pdsDid, 'com.atproto.repo.createRecord'))
    expect(otherMethod.status).toBe(401)
    expect(await otherMethod.json()).toMatchObject({ error: 'BadJwtLexiconMethod' })
    const otherAudience = await send(
      await token('did:web:video.bsky.app', 'com.atproto.repo.uploadBlob'),
    )
    expect(otherAudience.status).toBe(401)
    expect(await otherAudience.json()).toMatchObject({ error: 'BadJwtAudience' })
  })

  it('refuses bad uploads with their XRPC errors', async () => {
    const agent = await newAgent('bad')
    const url = `${pdsUrl}/xrpc/com.atproto.repo.uploadBlob`
    const auth = { authorization: `Bearer ${agent.session!.accessJwt}` }

    const noAuth = await fetch(url, { method: 'POST', body: PNG })
    expect(noAuth.status).toBe(401)

    const empty = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: new Uint8Array(0),
    })
    expect(empty.status).toBe(400)
    expect(await empty.json()).toMatchObject({ error: 'InvalidRequest' })

    // One byte over the limit (a sparse file: no disk or memory spent on it).
    const hugePath = join(dir, 'huge.bin')
    writeFileSync(hugePath, '')
    truncateSync(hugePath, 100 * 1024 * 1024 + 1)
    const tooLarge = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'video/mp4' },
      body: await openAsBlob(hugePath),
    })
    expect(tooLarge.status).toBe(413)
    expect(await tooLarge.json()).toMatchObject({ error: 'PayloadTooLarge' })
    // A body that stops short of its Content-Length is covered in test/worker/blobs.test.ts:
    // fetch cannot send one, and through wrangler dev the connection just drops.

    expect((await agent.com.atproto.sync.listBlobs({ did: agent.session!.did })).data.cids).toEqual(
      [],
    )
  })
})
