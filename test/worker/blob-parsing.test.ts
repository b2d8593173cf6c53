/** The pure parts of blob handling: MIME sniffing, byte ranges, refs in JSON, hashing. */
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { createSha256 } from '../../src/blobs/hash.ts'
import { chooseMimeType, normalizeMimeType, sniffMimeType } from '../../src/blobs/mime.ts'
import { blobCidsOfJsonRecord } from '../../src/blobs/refs.ts'
import { parseRange } from '../../src/blobs/serve.ts'

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(
    parts.flatMap((part) =>
      typeof part === 'string' ? [...part].map((c) => c.charCodeAt(0)) : part,
    ),
  )

const MP4 = bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 2, 0])
const MOV = bytes([0, 0, 0, 0x14], 'ftypqt  ', [0, 0, 0, 0])
const AVIF = bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0, 0, 0])
const WEBM = bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF')
const WEBP = bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ')

describe('MIME types', () => {
  it('recognises common media by their leading bytes', () => {
    expect(sniffMimeType(MP4)).toBe('video/mp4')
    expect(sniffMimeType(MOV)).toBe('video/quicktime')
    expect(sniffMimeType(AVIF)).toBe('image/avif')
    expect(sniffMimeType(WEBM)).toBe('video/webm')
    expect(sniffMimeType(JPEG)).toBe('image/jpeg')
    expect(sniffMimeType(WEBP)).toBe('image/webp')
    expect(sniffMimeType(bytes('hello world'))).toBeNull()
    expect(sniffMimeType(new Uint8Array(0))).toBeNull()
  })

  it('keeps the declared type when the bytes agree or cannot tell', () => {
    expect(chooseMimeType('video/mp4', MP4)).toBe('video/mp4')
    expect(chooseMimeType('video/quicktime', MP4)).toBe('video/quicktime')
    expect(chooseMimeType('video/mp4', MOV)).toBe('video/mp4')
    expect(chooseMimeType('video/x-matroska', WEBM)).toBe('video/x-matroska')
    expect(chooseMimeType('image/jpg', JPEG)).toBe('image/jpg')
    expect(chooseMimeType('text/plain; charset=utf-8', bytes('hi'))).toBe('text/plain')
    expect(chooseMimeType('video/mp4', bytes('not a box'))).toBe('video/mp4')
  })

  it('lets the bytes win over a wrong declaration, and refuses fake images', () => {
    expect(chooseMimeType('image/png', JPEG)).toBe('image/jpeg')
    expect(chooseMimeType('text/html', MP4)).toBe('video/mp4')
    expect(chooseMimeType(null, WEBP)).toBe('image/webp')
    expect(chooseMimeType('image/png', bytes('<svg onload=alert(1)>'))).toBe(
      'application/octet-stream',
    )
  })

  it('normalises the header', () => {
    expect(normalizeMimeType('Image/PNG; foo=bar')).toBe('image/png')
    expect(normalizeMimeType('*/*')).toBe('application/octet-stream')
    expect(normalizeMimeType('')).toBe('application/octet-stream')
    expect(normalizeMimeType('not a type')).toBe('application/octet-stream')
    expect(normalizeMimeType(null)).toBe('application/octet-stream')
  })
})

describe('Range', () => {
  it('parses single byte ranges', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ offset: 0, length: 10 })
    expect(parseRange('bytes=90-', 100)).toEqual({ offset: 90, length: 10 })
    expect(parseRange('bytes=90-500', 100)).toEqual({ offset: 90, length: 10 })
    expect(parseRange('bytes=-10', 100)).toEqual({ offset: 90, length: 10 })
    expect(parseRange('bytes=-500', 100)).toEqual({ offset: 0, length: 100 })
    expect(parseRange('bytes=99-99', 100)).toEqual({ offset: 99, length: 1 })
  })

  it('answers 416 past the end and ignores what it does not serve', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=100-200', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable')
    expect(parseRange(null, 100)).toBeNull()
    expect(parseRange('bytes=5-1', 100)).toBeNull()
    expect(parseRange('bytes=0-1,4-5', 100)).toBeNull()
    expect(parseRange('items=0-1', 100)).toBeNull()
    expect(parseRange('bytes=-', 100)).toBeNull()
  })
})

describe('blob refs in record JSON', () => {
  const cid = 'bafkreicuq4ab2p7pw4vrd2ur4gtrejzdk73ulm63ggpwou2pjyxivse2aa'
  const other = 'bafkreia7dglq6blm2elkl7r4ajbcyhxbvsbhcnw7i4fvzcnpjetcaujkuq'
  const ref = (link: string) => ({
    $type: 'blob',
    ref: { $link: link },
    mimeType: 'image/png',
    size: 1,
  })

  it('finds typed and legacy refs, once each', () => {
    const record = {
      $type: 'app.bsky.actor.profile',
      avatar: ref(cid),
      banner: { cid: other, mimeType: 'image/jpeg' },
      nested: [{ again: ref(cid) }],
    }
    expect(blobCidsOfJsonRecord(JSON.stringify(record))).toEqual([cid, other])
  })

  it('skips records without blobs cheaply', () => {
    expect(
      blobCidsOfJsonRecord(JSON.stringify({ $type: 'app.bsky.feed.like', subject: {} })),
    ).toEqual([])
  })
})

describe('streaming SHA-256', () => {
  it('matches a one-shot hash over uneven chunks (workerd: DigestStream)', async () => {
    expect('DigestStream' in crypto).toBe(true)
    const data = new Uint8Array(200_000).map((_, i) => (i * 31 + (i >> 8)) & 0xff)
    const hash = createSha256()
    for (const [start, end] of [
      [0, 1],
      [1, 65_537],
      [65_537, 65_537],
      [65_537, 200_000],
    ] as const) {
      await hash.update(data.slice(start, end))
    }
    expect(await hash.digest()).toEqual(sha256(data))
  })
})
