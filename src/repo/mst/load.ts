/**
 * Reading nodes through a BlockReader: `loadNode` memoizes the decoded content on the node
 * (point operations, which revisit the same path), `readNode` leaves it alone (full walks,
 * which would otherwise pull the whole tree into memory).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { Digest } from 'multiformats/hashes/digest'
import { CID, DAG_CBOR_CODEC, SHA2_256_CODE } from '../../data/cid.ts'
import { type BlockReader, readBlock } from '../block-store.ts'
import { decodeNodeBlock, encodeNodeData } from './codec.ts'
import type { MstNode, NodeData } from './node.ts'

export async function loadNode(node: MstNode, store: BlockReader): Promise<NodeData> {
  if (node.data) return node.data
  const cid = node.cid!
  const bytes = await readBlock(store, cid, 'MST node')
  // Another caller may have loaded it while we awaited.
  if (node.data) return node.data
  const decoded = decodeNodeBlock(bytes, cid, {
    layer: node.layer,
    lo: node.lo,
    hi: node.hi,
    isRoot: node.layer < 0,
  })
  node.layer = decoded.layer
  node.bytes = bytes
  node.data = decoded.data
  return decoded.data
}

export type ReadNode = { layer: number; data: NodeData; cid: CID; bytes: Uint8Array }

/**
 * Reads a node's content, its CID and its bytes without memoizing anything on it. `fetched`
 * is the block when the caller already has it.
 */
export async function readNode(
  node: MstNode,
  store: BlockReader,
  fetched?: Uint8Array | null,
): Promise<ReadNode> {
  if (node.data) {
    const cid = nodeCid(node)
    return { layer: node.layer, data: node.data, cid, bytes: node.bytes! }
  }
  const cid = node.cid!
  const bytes = fetched ?? (await readBlock(store, cid, 'MST node'))
  const decoded = decodeNodeBlock(bytes, cid, {
    layer: node.layer,
    lo: node.lo,
    hi: node.hi,
    isRoot: node.layer < 0,
  })
  return { layer: decoded.layer, data: decoded.data, cid, bytes }
}

/** A node's content, memoized or read without memoizing; no CID computed for new nodes. */
export async function peekNode(node: MstNode, store: BlockReader): Promise<NodeData> {
  return node.data ?? (await readNode(node, store)).data
}

/** The node's CID, encoding and hashing it (and any new descendants) if not done yet. */
export function nodeCid(node: MstNode): CID {
  if (node.cid) return node.cid
  const data = node.data!
  for (const child of data.children) {
    if (child && !child.cid) nodeCid(child)
  }
  const bytes = encodeNodeData(data)
  const cid = cborCid(sha256(bytes))
  node.bytes = bytes
  node.cid = cid
  return cid
}

/** CIDv1 dag-cbor sha2-256 from a digest, built directly rather than through varint encoding. */
function cborCid(hash: Uint8Array): CID {
  const bytes = new Uint8Array(36)
  bytes[0] = 1
  bytes[1] = DAG_CBOR_CODEC
  bytes[2] = SHA2_256_CODE
  bytes[3] = 32
  bytes.set(hash, 4)
  return new CID(
    1,
    DAG_CBOR_CODEC,
    new Digest(SHA2_256_CODE, 32, bytes.subarray(4), bytes.subarray(2)),
    bytes,
  )
}
