/**
 * The whole repo as CAR bytes, straight from the account's block table: the fast path of
 * getRepo. The commit comes first, then batches of MST nodes, each batch followed by the
 * records its nodes point at.
 *
 * Nodes are read a batch at a time from the top of a stack of pending subtrees, so memory is
 * bounded by the tree's depth times the batch, not by the repo. A node is not decoded: its
 * links are found by scanning its CBOR, and CIDs stay bytes (the CAR wants bytes; the table is
 * keyed by the base32 string, made here without CID objects). Profiling showed CID object
 * creation and string caching, not SQLite, dominating a decoded walk.
 */

import { concatBytes } from '../data/bytes.ts'
import { encodeCbor } from '../data/cbor.ts'
import { readHead, skipItem } from '../data/cbor-scan.ts'
import { CID } from '../data/cid.ts'
import { MissingBlockError } from './block-store.ts'
import { parseCommit } from './commit.ts'
import { encodeVarint } from './varint.ts'

/** Reads many blocks at once by CID string; missing ones are absent from the map. */
export type ReadBlocks = (cids: string[]) => Map<string, Uint8Array>

export class RepoExportError extends Error {
  override name = 'RepoExportError'
}

/** Nodes read per batch (their records are read in one more batch). */
const NODE_BATCH = 64
/** CAR bytes gathered before a chunk is handed out. */
const CHUNK_SIZE = 64 * 1024

/** CAR chunks of the repo at `head`, produced as the consumer pulls. */
export function* wholeRepoCar(readBlocks: ReadBlocks, head: CID): Generator<Uint8Array> {
  const out = new ChunkWriter()
  out.push(carHeader(head))
  const headKey = head.toString()
  const headBytes = readBlocks([headKey]).get(headKey)
  if (!headBytes) throw new MissingBlockError(head, 'commit block')
  out.section(head.bytes, headBytes)
  const pending: Uint8Array[] = [parseCommit(headBytes).data.bytes]
  while (pending.length > 0) {
    const batch = pending.splice(Math.max(0, pending.length - NODE_BATCH)).reverse()
    const keys = batch.map(cidString)
    const nodes = readBlocks(keys)
    const children: Uint8Array[] = []
    const records = new Map<string, Uint8Array>()
    for (let i = 0; i < batch.length; i++) {
      const bytes = nodes.get(keys[i]!)
      if (!bytes) throw new MissingBlockError(CID.decode(batch[i]!), 'MST node')
      out.section(batch[i]!, bytes)
      nodeLinks(bytes, children, records)
    }
    // Reversed onto the stack, so the leftmost subtree is read first (near pre-order).
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!)
    const found = readBlocks([...records.keys()])
    for (const [key, cid] of records) {
      const bytes = found.get(key)
      if (!bytes) throw new MissingBlockError(CID.decode(cid), 'record block')
      out.section(cid, bytes)
    }
    const chunk = out.take(CHUNK_SIZE)
    if (chunk) yield chunk
  }
  const rest = out.take(0)
  if (rest) yield rest
}

/** A pull-based byte stream over a chunk generator; cancelling stops the generator. */
export function chunksToStream(chunks: Generator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel() {
      chunks.return(undefined)
    },
  })
}

/**
 * Appends the links of an MST node `{e: [{k, p, t, v}], l}` (any key order, `l`/`t` absent or
 * null): subtrees to `children` in key order, record CIDs to `records` by CID string.
 */
export function nodeLinks(
  bytes: Uint8Array,
  children: Uint8Array[],
  records: Map<string, Uint8Array>,
): void {
  const map = readHead(bytes, 0)
  if (map?.major !== 5 || map.indefinite) throw invalid('not a map')
  let pos = map.next
  let left: Uint8Array | null = null
  const subtrees: (Uint8Array | null)[] = []
  for (let i = 0; i < map.value; i++) {
    const key = readKey(bytes, pos)
    pos = key.next
    if (key.name === 'l') {
      const link = readLink(bytes, pos)
      left = link.cid
      pos = link.next
    } else if (key.name === 'e') {
      const list = readHead(bytes, pos)
      if (list?.major !== 4 || list.indefinite) throw invalid('`e` is not an array')
      pos = list.next
      for (let j = 0; j < list.value; j++) {
        const entry = readHead(bytes, pos)
        if (entry?.major !== 5 || entry.indefinite) throw invalid('entry is not a map')
        pos = entry.next
        let tree: Uint8Array | null = null
        for (let f = 0; f < entry.value; f++) {
          const field = readKey(bytes, pos)
          pos = field.next
          if (field.name === 'v' || field.name === 't') {
            const link = readLink(bytes, pos)
            pos = link.next
            if (field.name === 't') tree = link.cid
            else if (link.cid) records.set(cidString(link.cid), link.cid)
            else throw invalid('entry without a value')
          } else {
            pos = skipOrThrow(bytes, pos)
          }
        }
        subtrees.push(tree)
      }
    } else {
      pos = skipOrThrow(bytes, pos)
    }
  }
  if (left) children.push(left)
  for (const tree of subtrees) if (tree) children.push(tree)
}

function readKey(bytes: Uint8Array, pos: number): { name: string; next: number } {
  const head = readHead(bytes, pos)
  if (head?.major !== 3 || head.indefinite) throw invalid('map key is not a string')
  const end = head.next + head.value
  // Node keys are one ASCII letter.
  const name = head.value === 1 ? String.fromCharCode(bytes[head.next]!) : ''
  return { name, next: end }
}

/** A tag-42 CID (its binary form, without the 0x00 prefix) or null. */
function readLink(bytes: Uint8Array, pos: number): { cid: Uint8Array | null; next: number } {
  if (bytes[pos] === 0xf6) return { cid: null, next: pos + 1 }
  const tag = readHead(bytes, pos)
  if (tag?.major !== 6 || tag.value !== 42) throw invalid('link is not a CID')
  const data = readHead(bytes, tag.next)
  if (data?.major !== 2 || data.indefinite || data.value < 2) throw invalid('bad CID bytes')
  const end = data.next + data.value
  if (end > bytes.length || bytes[data.next] !== 0) throw invalid('bad CID bytes')
  return { cid: bytes.subarray(data.next + 1, end), next: end }
}

function skipOrThrow(bytes: Uint8Array, pos: number): number {
  const next = skipItem(bytes, pos)
  if (next < 0) throw invalid('cannot read a value')
  return next
}

function invalid(why: string): RepoExportError {
  return new RepoExportError(`invalid MST node: ${why}`)
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** The `b`-prefixed base32 string of a binary CID (how the block table names blocks). */
export function cidString(cid: Uint8Array): string {
  let out = 'b'
  let buffer = 0
  let bits = 0
  for (let i = 0; i < cid.length; i++) {
    buffer = (buffer << 8) | cid[i]!
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32[(buffer >>> bits) & 31]
    }
    buffer &= (1 << bits) - 1
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31]
  return out
}

function carHeader(root: CID): Uint8Array {
  const header = encodeCbor({ version: 1, roots: [root] })
  return concatBytes([encodeVarint(header.length), header])
}

class ChunkWriter {
  private parts: Uint8Array[] = []
  private size = 0

  push(part: Uint8Array): void {
    this.parts.push(part)
    this.size += part.length
  }

  section(cid: Uint8Array, bytes: Uint8Array): void {
    this.push(encodeVarint(cid.length + bytes.length))
    this.push(cid)
    this.push(bytes)
  }

  /** The gathered bytes once there are at least `min` of them (and some). */
  take(min: number): Uint8Array | null {
    if (this.size === 0 || this.size < min) return null
    const out = concatBytes(this.parts, this.size)
    this.parts = []
    this.size = 0
    return out
  }
}
