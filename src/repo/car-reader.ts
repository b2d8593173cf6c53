/**
 * CAR v1 reader (https://ipld.io/specs/transport/car/carv1/): a header, varint(length) +
 * DAG-CBOR `{version: 1, roots: [CID...]}`, then sections of varint(length) + CID + block.
 *
 * Every block is checked against its CID (sha2-256 only), so a caller can trust that the bytes
 * it gets are the bytes the CID names. Block order and duplicates are not constrained, as the
 * repository spec requires readers to tolerate both.
 */
import { sha256 } from 'multiformats/hashes/sha2'
import { decodeCbor } from '../data/cbor.ts'
import { CID, SHA2_256_CODE } from '../data/cid.ts'
import { decodeVarint, MAX_VARINT_BYTES, VarintError } from './varint.ts'

export class CarError extends Error {
  override name = 'CarError'
}

/** The CAR is longer than the reader's `maxCarSize`. */
export class CarTooLargeError extends CarError {
  override name = 'CarTooLargeError'
}

export type CarBlock = { cid: CID; bytes: Uint8Array }

export type CarReadOptions = {
  /** Largest block accepted, in bytes, not counting its CID. Default DEFAULT_MAX_BLOCK_SIZE. */
  maxBlockSize?: number
  /** Largest whole CAR accepted, in bytes. Default: no limit. */
  maxCarSize?: number
}

export type CarStream = { roots: CID[]; blocks: AsyncGenerator<CarBlock, void, undefined> }

/** Chunks of a CAR, or the whole CAR as one array. */
export type ByteSource =
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | ReadableStream<Uint8Array>
  | Uint8Array

/**
 * 2 MiB: records are capped at 1,000,000 bytes by the sync spec (1 MiB by the validation
 * guide) and MST nodes and commits are far smaller, so this leaves headroom without letting
 * one length prefix make us buffer an unbounded amount.
 */
export const DEFAULT_MAX_BLOCK_SIZE = 2 * 1024 * 1024

/** A one-root header is about 60 bytes; this only bounds what a hostile prefix can claim. */
const MAX_HEADER_SIZE = 64 * 1024

/** The data-validation guide's CID limit. */
const MAX_CID_SIZE = 100

const SHA2_256_SIZE = 32

/**
 * Reads a whole CAR held in memory. Block bytes are views into `bytes` (not copies).
 * Duplicate blocks collapse into one map entry.
 */
export async function readCar(
  bytes: Uint8Array,
  options: CarReadOptions = {},
): Promise<{ roots: CID[]; blocks: Map<string, Uint8Array> }> {
  const { roots, blocks } = await readCarStream(bytes, options)
  const map = new Map<string, Uint8Array>()
  for await (const block of blocks) map.set(block.cid.toString(), block.bytes)
  return { roots, blocks: map }
}

/**
 * Reads the header eagerly, then yields verified blocks as they arrive. Sections may be split
 * across chunks in any way. Breaking out of the block loop cancels the source.
 */
export async function readCarStream(
  source: ByteSource,
  options: CarReadOptions = {},
): Promise<CarStream> {
  const reader = new ByteQueue(source, options.maxCarSize ?? Number.POSITIVE_INFINITY)
  try {
    const roots = await readHeader(reader)
    return { roots, blocks: readBlocks(reader, options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE) }
  } catch (err) {
    await reader.cancel()
    throw err
  }
}

async function readHeader(reader: ByteQueue): Promise<CID[]> {
  const length = await reader.readVarint()
  if (length === null) throw new CarError('CAR is empty')
  if (length === 0) throw new CarError('CAR header is empty')
  if (length > MAX_HEADER_SIZE) throw new CarError(`CAR header is too large (${length} bytes)`)
  const bytes = await reader.read(length, 'CAR header')
  let header: unknown
  try {
    header = decodeCbor(bytes)
  } catch (err) {
    throw new CarError(`CAR header is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  return parseHeader(header)
}

function parseHeader(header: unknown): CID[] {
  if (
    typeof header !== 'object' ||
    header === null ||
    Array.isArray(header) ||
    header instanceof Uint8Array ||
    CID.asCID(header)
  ) {
    throw new CarError('CAR header is not a map')
  }
  const fields = header as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (key !== 'version' && key !== 'roots') throw new CarError(`CAR header has field "${key}"`)
  }
  if (fields.version !== 1) throw new CarError(`unsupported CAR version ${String(fields.version)}`)
  if (!Array.isArray(fields.roots)) throw new CarError('CAR header roots is not an array')
  return fields.roots.map((root) => {
    const cid = CID.asCID(root)
    if (!cid) throw new CarError('CAR header root is not a CID')
    return cid
  })
}

async function* readBlocks(
  reader: ByteQueue,
  maxBlockSize: number,
): AsyncGenerator<CarBlock, void, undefined> {
  try {
    while (true) {
      const length = await reader.readVarint()
      if (length === null) return
      if (length === 0) throw new CarError('CAR section is empty')
      if (length > maxBlockSize + MAX_CID_SIZE) {
        throw new CarError(`CAR section is too large (${length} bytes)`)
      }
      const section = await reader.read(length, 'CAR section')
      const cidLength = sectionCidLength(section)
      const cid = decodeCid(section.subarray(0, cidLength))
      const bytes = section.subarray(cidLength)
      if (bytes.length > maxBlockSize) {
        throw new CarError(`block ${cid} is too large (${bytes.length} bytes)`)
      }
      await verifyBlock(cid, bytes)
      yield { cid, bytes }
    }
  } finally {
    await reader.cancel()
  }
}

/** Finds where the CID ends without trusting the rest of the section. */
function sectionCidLength(section: Uint8Array): number {
  // CIDv0 is a bare sha2-256 multihash.
  if (section[0] === 0x12 && section[1] === 0x20) return checkCidLength(34, section)
  let offset = 0
  const next = (what: string): number => {
    const varint = safeVarint(section, offset, what)
    offset += varint.length
    return varint.value
  }
  const version = next('CID version')
  if (version !== 1) throw new CarError(`unsupported CID version ${version}`)
  next('CID codec')
  next('CID hash function')
  const digestSize = next('CID digest size')
  return checkCidLength(offset + digestSize, section)
}

function checkCidLength(length: number, section: Uint8Array): number {
  if (length > MAX_CID_SIZE) throw new CarError(`CID is too long (${length} bytes)`)
  if (length > section.length) throw new CarError('CAR section ends inside its CID')
  return length
}

function safeVarint(
  bytes: Uint8Array,
  offset: number,
  what: string,
): { value: number; length: number } {
  try {
    const varint = decodeVarint(bytes, offset)
    if (varint === null) throw new CarError(`CAR section ends inside the ${what}`)
    return varint
  } catch (err) {
    if (err instanceof VarintError) throw new CarError(`malformed ${what}: ${err.message}`)
    throw err
  }
}

function decodeCid(bytes: Uint8Array): CID {
  try {
    return CID.decode(bytes)
  } catch (err) {
    throw new CarError(`malformed CID in CAR section: ${(err as Error).message}`)
  }
}

async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== SHA2_256_CODE || cid.multihash.size !== SHA2_256_SIZE) {
    throw new CarError(`unsupported hash function 0x${cid.multihash.code.toString(16)} in ${cid}`)
  }
  const digest = await sha256.digest(bytes)
  if (!equalBytes(digest.digest, cid.multihash.digest)) {
    throw new CarError(`block does not match its CID ${cid}`)
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Buffers chunks from a source and hands out exact byte ranges, copying only across chunks. */
class ByteQueue {
  private chunks: Uint8Array[] = []
  private head = 0
  private buffered = 0
  private consumed = 0
  private ended = false
  private readonly pull: () => Promise<Uint8Array | null>
  private readonly release: () => Promise<void>
  private readonly maxSize: number

  constructor(source: ByteSource, maxSize: number) {
    this.maxSize = maxSize
    if (isReadableStream(source)) {
      const reader = source.getReader()
      this.pull = async () => {
        const { done, value } = await reader.read()
        return done ? null : value
      }
      this.release = async () => {
        await reader.cancel()
      }
    } else {
      const iterator = chunkIterator(source)
      this.pull = async () => {
        const { done, value } = await iterator.next()
        return done ? null : value
      }
      this.release = async () => {
        await iterator.return?.()
      }
    }
  }

  /** Reads a varint length; null on a clean end of input between sections. */
  async readVarint(): Promise<number | null> {
    while (true) {
      const peeked = this.peek(MAX_VARINT_BYTES)
      let varint: { value: number; length: number } | null
      try {
        varint = decodeVarint(peeked)
      } catch (err) {
        if (err instanceof VarintError)
          throw new CarError(`malformed length prefix: ${err.message}`)
        throw err
      }
      if (varint) {
        this.skip(varint.length)
        return varint.value
      }
      if (!(await this.fill())) {
        if (this.buffered === 0) return null
        throw new CarError('CAR is truncated inside a length prefix')
      }
    }
  }

  async read(length: number, what: string): Promise<Uint8Array> {
    if (this.consumed + length > this.maxSize) {
      throw new CarTooLargeError(`CAR is larger than ${this.maxSize} bytes`)
    }
    while (this.buffered < length) {
      if (!(await this.fill())) throw new CarError(`CAR is truncated inside a ${what}`)
    }
    const first = this.chunks[0]!
    if (first.length - this.head >= length) {
      const out = first.subarray(this.head, this.head + length)
      this.skip(length)
      return out
    }
    const out = new Uint8Array(length)
    let written = 0
    while (written < length) {
      const chunk = this.chunks[0]!
      const take = Math.min(chunk.length - this.head, length - written)
      out.set(chunk.subarray(this.head, this.head + take), written)
      written += take
      this.skip(take)
    }
    return out
  }

  async cancel(): Promise<void> {
    if (this.ended) return
    this.ended = true
    await this.release()
  }

  private peek(max: number): Uint8Array {
    const first = this.chunks[0]
    if (!first) return new Uint8Array(0)
    if (first.length - this.head >= max || this.chunks.length === 1) {
      return first.subarray(this.head, this.head + max)
    }
    const out = new Uint8Array(Math.min(max, this.buffered))
    let written = 0
    let head = this.head
    for (const chunk of this.chunks) {
      const take = Math.min(chunk.length - head, out.length - written)
      out.set(chunk.subarray(head, head + take), written)
      written += take
      head = 0
      if (written === out.length) break
    }
    return out
  }

  private skip(length: number): void {
    let rest = length
    this.buffered -= length
    this.consumed += length
    while (rest > 0) {
      const chunk = this.chunks[0]!
      const available = chunk.length - this.head
      if (rest < available) {
        this.head += rest
        return
      }
      rest -= available
      this.chunks.shift()
      this.head = 0
    }
  }

  /** Pulls one more non-empty chunk; false at the end of input. */
  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const chunk = await this.pull()
      if (chunk === null) {
        this.ended = true
        return false
      }
      if (!(chunk instanceof Uint8Array)) throw new CarError('CAR source yielded a non-byte chunk')
      if (chunk.length === 0) continue
      this.chunks.push(chunk)
      this.buffered += chunk.length
      return true
    }
    return false
  }
}

function chunkIterator(
  source: Exclude<ByteSource, ReadableStream<Uint8Array>>,
): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  if (source instanceof Uint8Array) return [source][Symbol.iterator]()
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]()
  return source[Symbol.iterator]()
}

function isReadableStream(source: ByteSource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === 'function'
}
