/**
 * CAR v1 writer. Output is produced lazily, block by block, so a whole-repo export never has
 * to be held in memory; small sections are batched into chunks of about CHUNK_SIZE bytes to
 * keep the number of stream writes down.
 */
import { concatBytes } from '../data/bytes.ts'
import { encodeCbor } from '../data/cbor.ts'
import type { CID } from '../data/cid.ts'
import type { CarBlock } from './car-reader.ts'
import { encodeVarint } from './varint.ts'

export type BlockSource = AsyncIterable<CarBlock> | Iterable<CarBlock>

const CHUNK_SIZE = 64 * 1024

/** The header followed by one section per block, in the given order. `null` writes no root. */
export async function* writeCar(
  root: CID | null,
  blocks: BlockSource,
): AsyncGenerator<Uint8Array, void, undefined> {
  const batch = new ChunkBatch()
  const header = encodeCbor({ version: 1, roots: root ? [root] : [] })
  batch.push(encodeVarint(header.length))
  batch.push(header)
  for await (const { cid, bytes } of blocks) {
    batch.push(encodeVarint(cid.bytes.length + bytes.length))
    batch.push(cid.bytes)
    batch.push(bytes)
    if (batch.size >= CHUNK_SIZE) yield batch.take()
  }
  if (batch.size > 0) yield batch.take()
}

/**
 * A pull-based byte stream, suitable as a Response body: the next block is only requested
 * when the consumer wants more, and cancelling the stream stops the block source.
 */
export function carToReadableStream(
  root: CID | null,
  blocks: BlockSource,
): ReadableStream<Uint8Array> {
  const chunks = writeCar(root, blocks)
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    async cancel() {
      await chunks.return()
    },
  })
}

/** The whole CAR as one byte array; for small CARs such as a commit's block slice. */
export async function encodeCarBytes(root: CID | null, blocks: BlockSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of writeCar(root, blocks)) parts.push(chunk)
  return concatBytes(
    parts,
    parts.reduce((sum, part) => sum + part.length, 0),
  )
}

/** The same bytes as `encodeCarBytes`, synchronously, from blocks already in memory. */
export function encodeCarBytesSync(root: CID | null, blocks: Iterable<CarBlock>): Uint8Array {
  const batch = new ChunkBatch()
  const header = encodeCbor({ version: 1, roots: root ? [root] : [] })
  batch.push(encodeVarint(header.length))
  batch.push(header)
  for (const { cid, bytes } of blocks) {
    batch.push(encodeVarint(cid.bytes.length + bytes.length))
    batch.push(cid.bytes)
    batch.push(bytes)
  }
  return batch.take()
}

class ChunkBatch {
  private parts: Uint8Array[] = []
  size = 0

  push(part: Uint8Array): void {
    if (part.length === 0) return
    this.parts.push(part)
    this.size += part.length
  }

  take(): Uint8Array {
    const out = concatBytes(this.parts, this.size)
    this.parts = []
    this.size = 0
    return out
  }
}
