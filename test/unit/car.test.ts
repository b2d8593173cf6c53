import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { identity } from 'multiformats/hashes/identity'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { encodeCbor, encodeCborBlock } from '../../src/data/cbor.ts'
import { CID, cidForRawBytes, RAW_CODEC } from '../../src/data/cid.ts'
import {
  type CarBlock,
  CarError,
  carToReadableStream,
  DEFAULT_MAX_BLOCK_SIZE,
  encodeCarBytes,
  readCar,
  readCarStream,
  writeCar,
} from '../../src/repo/car.ts'
import { decodeVarint, encodeVarint, VarintError } from '../../src/repo/varint.ts'

const FIXTURES = new URL('../fixtures/reference-pds/', import.meta.url)
const facts = JSON.parse(readFileSync(new URL('README-facts.json', FIXTURES), 'utf8')) as {
  latestCommit: { cid: string; rev: string }
}

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)))
}

async function rawBlock(size: number): Promise<CarBlock> {
  const bytes = new Uint8Array(randomBytes(size))
  return { cid: await cidForRawBytes(bytes), bytes }
}

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let start = 0
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.slice(start, cut)
    start = cut
  }
}

async function collect(stream: Awaited<ReturnType<typeof readCarStream>>): Promise<CarBlock[]> {
  const out: CarBlock[] = []
  for await (const block of stream.blocks) out.push(block)
  return out
}

async function smallCar(): Promise<{ root: CID; blocks: CarBlock[]; bytes: Uint8Array }> {
  const record = await encodeCborBlock({ $type: 'app.bsky.feed.post', text: 'hi' })
  const root = await encodeCborBlock({ data: record.cid, n: 1 })
  const blocks = [root, record, await rawBlock(0), await rawBlock(5)]
  return { root: root.cid, blocks, bytes: await encodeCarBytes(root.cid, blocks) }
}

/** Byte offsets where a section (or the header) ends: a CAR cut there is still well formed. */
function sectionEnds(blocks: CarBlock[], root: CID): number[] {
  const header = encodeCbor({ version: 1, roots: [root] })
  let offset = encodeVarint(header.length).length + header.length
  const ends = [offset]
  for (const { cid, bytes } of blocks) {
    const length = cid.bytes.length + bytes.length
    offset += encodeVarint(length).length + length
    ends.push(offset)
  }
  return ends
}

function carWithHeader(header: unknown): Uint8Array {
  const bytes = dagCbor.encode(header)
  return new Uint8Array([...encodeVarint(bytes.length), ...bytes])
}

function section(cid: CID, bytes: Uint8Array): Uint8Array {
  return new Uint8Array([...encodeVarint(cid.bytes.length + bytes.length), ...cid.bytes, ...bytes])
}

describe('varint', () => {
  it('round-trips lengths up to 2^53 - 1', () => {
    for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const bytes = encodeVarint(value)
      expect(decodeVarint(bytes)).toEqual({ value, length: bytes.length })
    }
    expect(encodeVarint(300)).toEqual(new Uint8Array([0xac, 0x02]))
  })

  it('reports incomplete input as null and rejects bad input', () => {
    expect(decodeVarint(new Uint8Array([0x80]))).toBeNull()
    expect(() => decodeVarint(new Uint8Array([0x81, 0x00]))).toThrow(VarintError)
    expect(() => encodeVarint(-1)).toThrow(VarintError)
    expect(() => encodeVarint(1.5)).toThrow(VarintError)
  })
})

describe('CAR round trip', () => {
  it('reads back what it writes, including empty and large blocks', async () => {
    const blocks = await Promise.all([0, 1, 100, 70_000, 1_500_000].map(rawBlock))
    const cbor = await encodeCborBlock({ hello: 'world', list: [1, 2, 3] })
    blocks.push(cbor)
    const car = await encodeCarBytes(cbor.cid, blocks)
    const read = await readCar(car)
    expect(read.roots.map(String)).toEqual([cbor.cid.toString()])
    expect(read.blocks.size).toBe(blocks.length)
    for (const block of blocks) {
      expect(read.blocks.get(block.cid.toString())).toEqual(block.bytes)
    }
  })

  it('writes an empty roots list for a null root', async () => {
    const block = await rawBlock(10)
    const read = await readCar(await encodeCarBytes(null, [block]))
    expect(read.roots).toEqual([])
    expect(read.blocks.get(block.cid.toString())).toEqual(block.bytes)
  })

  it('writes a header-only CAR with no blocks', async () => {
    const { root } = await smallCar()
    const read = await readCar(await encodeCarBytes(root, []))
    expect(read.roots[0]?.equals(root)).toBe(true)
    expect(read.blocks.size).toBe(0)
  })

  it('streams in order from writeCar straight into readCarStream', async () => {
    const blocks = await Promise.all(Array.from({ length: 50 }, (_, i) => rawBlock(i * 997)))
    const { roots, blocks: stream } = await readCarStream(writeCar(blocks[0]!.cid, blocks))
    expect(roots[0]?.equals(blocks[0]!.cid)).toBe(true)
    const got: CarBlock[] = []
    for await (const block of stream) got.push(block)
    expect(got.map((b) => b.cid.toString())).toEqual(blocks.map((b) => b.cid.toString()))
    expect(got.map((b) => b.bytes)).toEqual(blocks.map((b) => b.bytes))
  })

  it('batches small sections into larger chunks and keeps them bounded', async () => {
    const blocks = await Promise.all(Array.from({ length: 2000 }, () => rawBlock(100)))
    const chunks: Uint8Array[] = []
    for await (const chunk of writeCar(null, blocks)) chunks.push(chunk)
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.length).toBeLessThan(20)
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(70 * 1024)
  })

  it('produces a ReadableStream usable as a Response body', async () => {
    const blocks = await Promise.all([0, 10, 200_000].map(rawBlock))
    const stream = carToReadableStream(blocks[1]!.cid, blocks)
    const body = new Uint8Array(await new Response(stream).arrayBuffer())
    expect(body).toEqual(await encodeCarBytes(blocks[1]!.cid, blocks))
  })

  it('reads from a ReadableStream', async () => {
    const blocks = await Promise.all([3, 30, 300_000].map(rawBlock))
    const stream = await readCarStream(carToReadableStream(blocks[0]!.cid, blocks))
    const got = await collect(stream)
    expect(got.map((b) => b.cid.toString())).toEqual(blocks.map((b) => b.cid.toString()))
  })

  it('pulls blocks lazily and stops the source on cancel', async () => {
    let pulled = 0
    let finished = false
    async function* source(): AsyncGenerator<CarBlock> {
      try {
        for (let i = 0; i < 1000; i++) {
          pulled++
          yield await rawBlock(16 * 1024)
        }
      } finally {
        finished = true
      }
    }
    const reader = carToReadableStream(null, source()).getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    expect(pulled).toBeLessThan(10)
    await reader.cancel()
    expect(finished).toBe(true)
    expect(pulled).toBeLessThan(10)
  })

  it('stops the source when the reader breaks out early', async () => {
    let finished = false
    const { bytes } = await smallCar()
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1)
      } finally {
        finished = true
      }
    }
    const { blocks } = await readCarStream(source())
    for await (const _ of blocks) break
    expect(finished).toBe(true)
  })
})

describe('CAR streaming reader', () => {
  it('reads the same blocks however the input is split in two', async () => {
    const { root, blocks, bytes } = await smallCar()
    const expected = blocks.map((b) => b.cid.toString())
    for (let cut = 1; cut < bytes.length; cut++) {
      const stream = await readCarStream(chunked(bytes, [cut]))
      expect(stream.roots[0]?.equals(root)).toBe(true)
      const got = await collect(stream)
      expect(got.map((b) => b.cid.toString())).toEqual(expected)
      expect(got.map((b) => b.bytes)).toEqual(blocks.map((b) => b.bytes))
    }
  })

  it('reads one byte at a time, with empty chunks in between', async () => {
    const { blocks, bytes } = await smallCar()
    async function* bytewise(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i++) {
        yield new Uint8Array(0)
        yield bytes.slice(i, i + 1)
      }
    }
    const got = await collect(await readCarStream(bytewise()))
    expect(got.map((b) => b.bytes)).toEqual(blocks.map((b) => b.bytes))
  })

  it('accepts a whole Uint8Array or a plain array of chunks as the source', async () => {
    const { blocks, bytes } = await smallCar()
    const whole = await collect(await readCarStream(bytes))
    expect(whole.map((b) => b.bytes)).toEqual(blocks.map((b) => b.bytes))
    const parts = await collect(await readCarStream([bytes.subarray(0, 3), bytes.subarray(3)]))
    expect(parts.map((b) => b.bytes)).toEqual(blocks.map((b) => b.bytes))
  })

  it('reads random three-way splits', async () => {
    const { blocks, bytes } = await smallCar()
    for (let i = 0; i < 200; i++) {
      const cuts = [0, 0]
        .map(() => 1 + Math.floor(Math.random() * (bytes.length - 1)))
        .sort((a, b) => a - b)
      const got = await collect(await readCarStream(chunked(bytes, cuts)))
      expect(got.length).toBe(blocks.length)
    }
  })
})

describe('CAR tolerance', () => {
  it('accepts any block order and duplicate blocks', async () => {
    const { root, blocks } = await smallCar()
    const shuffled = [blocks[3]!, blocks[1]!, blocks[0]!, blocks[1]!, blocks[2]!, blocks[3]!]
    const car = await encodeCarBytes(root, shuffled)
    const read = await readCar(car)
    expect(read.blocks.size).toBe(4)
    const streamed = await collect(await readCarStream(chunked(car, [])))
    expect(streamed.length).toBe(6)
  })

  it('accepts a CIDv0 block (sha2-256)', async () => {
    const bytes = new Uint8Array([1, 2, 3])
    const cid = CID.createV0(await sha256.digest(bytes))
    const car = new Uint8Array([
      ...carWithHeader({ version: 1, roots: [cid] }),
      ...section(cid, bytes),
    ])
    const read = await readCar(car)
    expect(read.blocks.get(cid.toString())).toEqual(bytes)
  })
})

describe('CAR rejection', () => {
  it('rejects a block whose bytes do not match its CID', async () => {
    const { bytes } = await smallCar()
    const corrupt = bytes.slice()
    corrupt[corrupt.length - 1]! ^= 0xff
    await expect(readCar(corrupt)).rejects.toThrow(/does not match/)
    const stream = await readCarStream(chunked(corrupt, [10, 50]))
    await expect(collect(stream)).rejects.toThrow(CarError)
  })

  it('rejects every corruption of the reference repo CAR body', async () => {
    const car = fixture('record-proof-existing.car')
    // Skip the header; flip one byte in each section (length prefixes are handled elsewhere).
    for (let i = 100; i < car.length; i += 37) {
      const corrupt = car.slice()
      corrupt[i]! ^= 0x01
      await expect(readCar(corrupt)).rejects.toThrow(CarError)
    }
  })

  it('rejects unsupported hash functions', async () => {
    const bytes = new Uint8Array([9, 9, 9])
    const root = (await rawBlock(1)).cid
    for (const digest of [await sha512.digest(bytes), identity.digest(bytes)]) {
      const cid = CID.createV1(RAW_CODEC, digest)
      const car = new Uint8Array([
        ...carWithHeader({ version: 1, roots: [root] }),
        ...section(cid, bytes),
      ])
      await expect(readCar(car)).rejects.toThrow(/unsupported hash function/)
    }
  })

  it('rejects a truncated file at every offset inside a section', async () => {
    const { root, blocks, bytes } = await smallCar()
    const ends = sectionEnds(blocks, root)
    expect(ends.at(-1)).toBe(bytes.length)
    for (let length = 0; length < bytes.length; length++) {
      const cut = bytes.slice(0, length)
      const boundary = ends.indexOf(length)
      if (boundary >= 0) {
        // A cut between sections is a valid CAR holding fewer blocks.
        const read = await readCar(cut)
        expect(read.blocks.size).toBe(boundary)
      } else {
        await expect(readCar(cut)).rejects.toThrow(CarError)
      }
    }
  })

  it('rejects bad headers', async () => {
    const cid = (await rawBlock(1)).cid
    const bad: unknown[] = [
      { version: 2, roots: [cid] },
      { version: '1', roots: [cid] },
      { roots: [cid] },
      { version: 1 },
      { version: 1, roots: cid },
      { version: 1, roots: ['bafy'] },
      { version: 1, roots: [cid], extra: true },
      [1, [cid]],
      'car',
      cid,
    ]
    for (const header of bad) {
      await expect(readCar(carWithHeader(header))).rejects.toThrow(CarError)
    }
  })

  it('rejects malformed framing', async () => {
    const good = carWithHeader({ version: 1, roots: [] })
    const cases: Uint8Array[] = [
      new Uint8Array(0), // empty file
      new Uint8Array([0x00]), // zero-length header
      new Uint8Array([0x80, 0x00, 0xa0]), // non-minimal varint
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), // too long
      new Uint8Array([0x05, 0xa2]), // header shorter than its prefix says
      new Uint8Array([0x02, 0xff, 0xff]), // header is not CBOR
      new Uint8Array([0xff, 0xff, 0x7f]), // header larger than allowed
      new Uint8Array([...good, 0x00]), // zero-length section
      new Uint8Array([...good, 0x80]), // truncated section prefix
      new Uint8Array([...good, 0x80, 0x00]), // non-minimal section prefix
      new Uint8Array([...good, 0x03, 0x01, 0x71, 0x12]), // section ends inside its CID
      new Uint8Array([...good, 0x04, 0x02, 0x71, 0x12, 0x00]), // CID version 2
    ]
    for (const car of cases) {
      await expect(readCar(car)).rejects.toThrow(CarError)
    }
  })

  it('enforces the block size limit', async () => {
    const big = await rawBlock(DEFAULT_MAX_BLOCK_SIZE + 1)
    await expect(readCar(await encodeCarBytes(null, [big]))).rejects.toThrow(/too large/)
    const fits = await rawBlock(DEFAULT_MAX_BLOCK_SIZE)
    expect((await readCar(await encodeCarBytes(null, [fits]))).blocks.size).toBe(1)
    const small = await rawBlock(1000)
    const car = await encodeCarBytes(null, [small])
    await expect(readCar(car, { maxBlockSize: 999 })).rejects.toThrow(/too large/)
    expect((await readCar(car, { maxBlockSize: 1000 })).blocks.size).toBe(1)
  })

  it('refuses a huge section length before buffering it', async () => {
    const good = carWithHeader({ version: 1, roots: [] })
    let pulls = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([...good, ...encodeVarint(1 << 30)])
      while (true) {
        pulls++
        yield new Uint8Array(1024)
      }
    }
    await expect(collect(await readCarStream(source()))).rejects.toThrow(/too large/)
    expect(pulls).toBe(0)
  })

  it('enforces the total size limit', async () => {
    const blocks = await Promise.all([1000, 1000].map(rawBlock))
    const car = await encodeCarBytes(null, blocks)
    await expect(readCar(car, { maxCarSize: car.length - 1 })).rejects.toThrow(/larger than/)
    expect((await readCar(car, { maxCarSize: car.length })).blocks.size).toBe(2)
  })
})

describe('reference PDS CARs', () => {
  const files = [
    { name: 'repo-alice.car', blocks: 18 },
    { name: 'repo-alice-since.car', blocks: 17 },
    { name: 'record-proof-existing.car', blocks: 5 },
    { name: 'record-proof-deleted.car', blocks: 4 },
  ]

  for (const { name, blocks } of files) {
    it(`${name}: root is the final commit and every block verifies`, async () => {
      const car = fixture(name)
      const read = await readCar(car)
      expect(read.roots.map(String)).toEqual([facts.latestCommit.cid])
      expect(read.blocks.size).toBe(blocks)
      expect(read.blocks.has(facts.latestCommit.cid)).toBe(true)
      for (const [cid, bytes] of read.blocks) {
        const parsed = CID.parse(cid)
        expect(parsed.multihash.digest).toEqual((await sha256.digest(bytes)).digest)
      }
    })

    it(`${name}: re-encoding in the same order gives identical bytes`, async () => {
      const car = fixture(name)
      const stream = await readCarStream(chunked(car, [7, 301, 1000]))
      const ordered = await collect(stream)
      expect(await encodeCarBytes(stream.roots[0]!, ordered)).toEqual(car)
    })
  }

  it('the since CAR is a subset of the full CAR', async () => {
    const full = await readCar(fixture('repo-alice.car'))
    const since = await readCar(fixture('repo-alice-since.car'))
    for (const [cid, bytes] of since.blocks) expect(full.blocks.get(cid)).toEqual(bytes)
  })
})
